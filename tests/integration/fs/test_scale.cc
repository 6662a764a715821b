// Bounded descriptors: walking and reading a snapshot with more files than the 20,000
// open-file limit keeps bkpfs far below it (one descriptor per inode would fail here).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

constexpr int kDirs = 100;
constexpr int kFilesPerDir = 250;  // 25,000 files in all
constexpr int kFdBound = 1000;

TEST(Scale, WalkMoreFilesThanTheFdLimitWithBoundedDescriptors) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  for (int d = 0; d < kDirs; ++d) {
    const fs::path dir = src / ("d" + std::to_string(d));
    fs::create_directory(dir);
    for (int f = 0; f < kFilesPerDir; ++f) {
      const std::string file = (dir / ("f" + std::to_string(f))).string();
      int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ASSERT_GE(fd, 0) << file;
      ASSERT_EQ(::write(fd, file.data() + file.size() - 3, 3), 3);
      ::close(fd);
    }
  }
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());

  int files = 0, most_fds = 0;
  char buf[64];
  for (const auto& entry : fs::recursive_directory_iterator(m / "by-date" / name / "src")) {
    struct stat st {};
    ASSERT_EQ(::lstat(entry.path().c_str(), &st), 0) << entry.path();
    if (!S_ISREG(st.st_mode)) continue;
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << entry.path();
    ASSERT_EQ(::read(fd, buf, sizeof(buf)), static_cast<ssize_t>(st.st_size)) << entry.path();
    ::close(fd);
    if (++files % 1000 == 0) most_fds = std::max(most_fds, count_fds(m.pid()));
  }
  EXPECT_EQ(files, kDirs * kFilesPerDir + 1);  // plus file.txt
  most_fds = std::max(most_fds, count_fds(m.pid()));
  EXPECT_LT(most_fds, kFdBound);
  RecordProperty("most_fds", most_fds);

  // Everything is still reachable after the caches have turned over many times.
  EXPECT_EQ(read_file(m / "latest/src/d0/f0"), "/f0");
  EXPECT_EQ(read_file(m / "latest/src/d99/f249"), "249");
}

}  // namespace
}  // namespace bkpfstest
