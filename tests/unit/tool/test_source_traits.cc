#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "source_traits.h"

namespace fs = std::filesystem;
using namespace bkp;

TEST(SourceTraits, TellsWhetherRsyncNeedsXattrsAndSparse) {
  const fs::path dir = fs::path("/var/tmp") / ("bkp-traits-" + std::to_string(getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "sub/plain") << "data";
  auto traits = scan_source_traits({dir});
  EXPECT_FALSE(traits.xattrs);
  EXPECT_FALSE(traits.sparse);

  {
    std::ofstream sparse(dir / "sub/holes");
    sparse.seekp(8 << 20);
    sparse << "end";
  }
  traits = scan_source_traits({dir});
  EXPECT_TRUE(traits.sparse);
  EXPECT_FALSE(traits.xattrs);

  ASSERT_EQ(::setxattr((dir / "sub").c_str(), "user.tag", "x", 1, 0), 0);
  traits = scan_source_traits({dir});
  EXPECT_TRUE(traits.xattrs);
  fs::remove_all(dir);
}
