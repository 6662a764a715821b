// bkpfs hides bkp's checksum records (issue 12): a destination with records shows exactly
// what it shows without them, in every view, through a real mount.
#include <gtest/gtest.h>

#include <set>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

// Every path below the mount, with its type, never following a symlink.
std::set<std::string> everything_in(const fs::path& mnt) {
  std::set<std::string> out;
  for (auto it = fs::recursive_directory_iterator(mnt); it != fs::recursive_directory_iterator(); ++it)
    out.insert(fs::relative(it->path(), mnt).string() + (it->is_symlink() ? " -> " + fs::read_symlink(it->path()).string() : ""));
  return out;
}

TEST(ChecksumRecords, NoViewShowsAnythingOfThem) {
  if (bkp_binary().empty()) GTEST_SKIP() << "bkp not built";
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "a.txt", "a\n");
  write_file(src / "sub/b.txt", "b\n");
  ASSERT_EQ(run({bkp_binary(), "-s", src.string(), "-d", dest.string()}).status, 0);
  write_file(src / "a.txt", "a, changed\n");
  ASSERT_EQ(run({bkp_binary(), "-s", src.string(), "-d", dest.string(), "-i"}).status, 0);
  ASSERT_EQ(run({bkp_binary(), "-s", src.string(), "-d", dest.string()}).status, 0);  // 0/ renamed, records and all
  std::vector<fs::path> record_dirs;
  for (const auto& series : fs::directory_iterator(dest))
    if (fs::is_directory(series.path() / ".bkp-checksums")) record_dirs.push_back(series.path() / ".bkp-checksums");
  ASSERT_EQ(record_dirs.size(), 2u);

  std::set<std::string> with_records;
  {
    Mount m(dest, tmp / "mnt");
    ASSERT_TRUE(m.ready());
    with_records = everything_in(m.path());
  }
  for (const std::string& entry : with_records) {
    EXPECT_EQ(entry.find(".bkp-checksums"), std::string::npos) << entry;
    EXPECT_EQ(entry.find(".xxh128"), std::string::npos) << entry;
  }
  EXPECT_TRUE(with_records.count("by-date"));
  EXPECT_TRUE(with_records.count("versions/src/a.txt"));

  for (size_t i = 0; i < record_dirs.size(); ++i) fs::rename(record_dirs[i], tmp / ("records-" + std::to_string(i)));
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(everything_in(m.path()), with_records);
}

}  // namespace
}  // namespace bkpfstest
