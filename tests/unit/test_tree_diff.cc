// The comparison of two snapshot trees behind `bkp diff` and bkpfs's changes/ view.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tree_diff.h"
#include "unchanged.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

class Trees : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("bkp-tree-diff-" + std::to_string(::getpid()));
    fs::remove_all(root);
    a = root / "A";
    b = root / "B";
    fs::create_directories(a);
    fs::create_directories(b);
  }
  void TearDown() override { fs::remove_all(root); }
  void file(const fs::path& p, const std::string& text, time_t mtime = 1600000000) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    const timespec t[2] = {{mtime, 0}, {mtime, 0}};
    ::utimensat(AT_FDCWD, p.c_str(), t, 0);
  }
  std::vector<std::string> lines(const DiffOptions& options = {}) {
    std::vector<std::string> out;
    for (const TreeChange& c : diff_trees(a, b, options)) out.push_back(format_change(c));
    return out;
  }
  fs::path root;
  fs::path a, b;
};

TEST_F(Trees, EveryKindOfChangeSortedByPath) {
  file(a / "same", "x");
  fs::create_hard_link(a / "same", b / "same");  // an increment's hard link
  file(a / "copied", "c");
  file(b / "copied", "c");  // a full run's copy: same size, mtime, mode, owner
  file(a / "edited", "old");
  file(b / "edited", "new", 1600000100);
  file(a / "resized", "1");
  file(b / "resized", "22");
  file(a / "chmodded", "m");
  file(b / "chmodded", "m");
  ::chmod((b / "chmodded").c_str(), 0600);
  file(a / "gone", "g");
  file(b / "new", "n");
  file(a / "was-file", "w");
  fs::create_symlink("target", b / "was-file");
  fs::create_symlink("one", a / "link");
  fs::create_symlink("two", b / "link");
  fs::create_directories(b / "docs/sub/deeper");
  file(b / "docs/sub/deeper/x", "x");
  fs::create_directories(a / "olddir");
  file(a / "olddir/y", "y");
  fs::create_directories(a / "kept/dir");
  fs::create_directories(b / "kept/dir");
  ::chmod((b / "kept/dir").c_str(), 0700);  // a directory's own mode is not reported
  EXPECT_EQ(lines(), (std::vector<std::string>{"U chmodded", "+ docs/", "+ docs/sub/", "+ docs/sub/deeper/",
                                               "+ docs/sub/deeper/x", "M edited", "- gone", "M link", "+ new",
                                               "- olddir/", "- olddir/y", "M resized", "T was-file"}));
  DiffOptions shallow;
  shallow.directory_contents = false;
  EXPECT_EQ(lines(shallow), (std::vector<std::string>{"U chmodded", "+ docs/", "M edited", "- gone", "M link",
                                                      "+ new", "- olddir/", "M resized", "T was-file"}));
}

TEST_F(Trees, XattrsAloneAreMetadata) {
  file(a / "f", "x");
  file(b / "f", "x");
  if (::setxattr((b / "f").c_str(), "user.note", "v", 1, 0) != 0) GTEST_SKIP() << "no user xattrs here";
  EXPECT_EQ(lines(), std::vector<std::string>{"U f"});
  DiffOptions without;
  without.compare_xattrs = false;
  EXPECT_TRUE(lines(without).empty());
}

TEST_F(Trees, DirectoryAndFileSwapPlaces) {
  fs::create_directories(a / "x");
  file(a / "x/inside", "i");
  file(b / "x", "now a file");
  file(a / "y", "was a file");
  fs::create_directories(b / "y");
  file(b / "y/in", "i");
  EXPECT_EQ(lines(), (std::vector<std::string>{"T x", "- x/inside", "T y/", "+ y/in"}));
}

TEST_F(Trees, HardLinksAreUnchangedWithoutAStat) {
  // Same inode on both sides: unchanged even if the metadata could not be compared (a
  // later chmod of the one inode changes both sides alike).
  file(a / "big", "content");
  fs::create_hard_link(a / "big", b / "big");
  ::chmod((a / "big").c_str(), 0600);
  EXPECT_TRUE(lines().empty());
  const auto changes = diff_trees(a, b);
  EXPECT_TRUE(changes.empty());
}

TEST_F(Trees, FirstSnapshotIsAllAdded) {
  file(b / "d/f", "x");
  file(b / "top", "t");
  const int fd = ::open(b.c_str(), O_RDONLY | O_DIRECTORY);
  std::vector<std::string> out;
  for (const TreeChange& c : list_as_added(fd)) out.push_back(format_change(c));
  ::close(fd);
  EXPECT_EQ(out, (std::vector<std::string>{"+ d/", "+ d/f", "+ top"}));
}

TEST(StatDifference, MostTellingFirstAndSameVersionAgrees) {
  struct stat a {};
  a.st_mode = S_IFREG | 0644;
  a.st_size = 10;
  a.st_mtim = {1600000000, 5};
  struct stat b = a;
  EXPECT_EQ(stat_difference(a, b), Difference::none);
  EXPECT_TRUE(same_version(a, b));
  b.st_mode = S_IFREG | 0600;
  EXPECT_EQ(stat_difference(a, b), Difference::metadata);
  b.st_mtim.tv_nsec = 6;  // content wins over metadata
  EXPECT_EQ(stat_difference(a, b), Difference::content);
  EXPECT_FALSE(same_version(a, b));
  b.st_mode = S_IFLNK | 0777;
  EXPECT_EQ(stat_difference(a, b), Difference::type);
  a.st_mode = S_IFLNK | 0777;  // symlink times are not kept by rsync: not compared
  EXPECT_EQ(stat_difference(a, b), Difference::none);
}

}  // namespace
