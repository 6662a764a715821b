// Removing a tree fd-relative and on two threads: everything below goes, nothing outside
// (through symlinks, hard links or a mount point) is touched, and unreadable directories,
// deep paths and a non-root owner are handled.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "test_support.h"
#include "tree_removal.h"
#include "unique_fd.h"

namespace fs = std::filesystem;
using namespace bkp;
using bkptest::TempDir;
using bkptest::write_file;

namespace {

// Entries below `root` plus `root` itself: what a complete removal counts.
std::uint64_t entries_of(const fs::path& root) {
  std::uint64_t n = 1;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none); it != fs::end(it); ++it) ++n;
  return n;
}

class Removal : public ::testing::Test {
 protected:
  RemovalResult remove(const std::string& name, unsigned threads = 2) {
    UniqueFd parent(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY));
    EXPECT_TRUE(parent);
    progress = 0;
    errors.clear();
    return remove_tree(parent.get(), name,
                       {.threads = threads, .progress = &progress, .on_error = [this](const std::string& path, int err) {
                          std::lock_guard lock(mutex);
                          errors.push_back(path + " " + std::to_string(err));
                        }});
  }

  TempDir tmp;
  std::atomic<std::uint64_t> progress{0};
  std::mutex mutex;
  std::vector<std::string> errors;
};

}  // namespace

TEST_F(Removal, RemovesEverythingBelowButNothingASymlinkOrHardLinkPointsTo) {
  const fs::path tree = tmp / "tree", outside = tmp / "outside";
  write_file(outside / "keep.txt", "outside");
  write_file(outside / "linked.txt", "linked");
  for (int d = 0; d < 20; ++d)
    for (int f = 0; f < 30; ++f) write_file(tree / "src" / ("d" + std::to_string(d)) / ("f" + std::to_string(f)), "x");
  fs::create_directory_symlink(outside, tree / "src/to-outside-dir");
  fs::create_symlink(outside / "keep.txt", tree / "src/to-outside-file");
  fs::create_symlink("../../../outside", tree / "src/d0/relative-to-outside");
  fs::create_symlink("nowhere", tree / "dangling");
  ASSERT_EQ(::mkfifo((tree / "fifo").c_str(), 0600), 0);
  fs::create_hard_link(outside / "linked.txt", tree / "src/hard-link-to-outside");
  // Many hard links of one file all over the tree.
  write_file(tree / "one", "one");
  for (int d = 0; d < 20; ++d)
    for (int l = 0; l < 10; ++l)
      fs::create_hard_link(tree / "one", tree / "src" / ("d" + std::to_string(d)) / ("link" + std::to_string(l)));
  const std::uint64_t count = entries_of(tree);

  const RemovalResult r = remove("tree");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.failures, 0u);
  EXPECT_EQ(r.first_error, "");
  EXPECT_EQ(errors, std::vector<std::string>{});
  EXPECT_EQ(r.removed, count);
  EXPECT_EQ(progress.load(), count);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
  EXPECT_EQ(bkptest::read_file(outside / "keep.txt"), "outside");
  EXPECT_EQ(bkptest::read_file(outside / "linked.txt"), "linked");
  EXPECT_EQ(fs::hard_link_count(outside / "linked.txt"), 1u);
}

TEST_F(Removal, OneThreadAndTwoThreadsRemoveTheSame) {
  for (const unsigned threads : {1u, 2u}) {
    for (int d = 0; d < 50; ++d) write_file(tmp / "tree/a" / std::to_string(d) / "b/c/f", "f");
    const std::uint64_t count = entries_of(tmp / "tree");
    const RemovalResult r = remove("tree", threads);
    EXPECT_TRUE(r.complete) << threads;
    EXPECT_EQ(r.removed, count) << threads;
    EXPECT_FALSE(fs::exists(tmp / "tree")) << threads;
  }
}

TEST_F(Removal, ASymlinkOrFileGivenAsTheTreeIsUnlinkedItself) {
  write_file(tmp / "outside/f", "f");
  fs::create_directory_symlink(tmp / "outside", tmp / "link");
  RemovalResult r = remove("link");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp / "link")));
  EXPECT_TRUE(fs::exists(tmp / "outside/f"));
  write_file(tmp / "file", "f");
  r = remove("file");
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(fs::exists(tmp / "file"));
}

TEST_F(Removal, AMissingTreeIsRemovedAlready) {
  const RemovalResult r = remove("never-there");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(r.failures, 0u);
}

TEST_F(Removal, DeepTreeWithPathsLongerThanPathMax) {
  // 3,000 levels: paths of 6,000 characters, made and checked fd-relative.
  ASSERT_EQ(::mkdir((tmp / "deep").c_str(), 0755), 0);
  UniqueFd fd(::open((tmp / "deep").c_str(), O_RDONLY | O_DIRECTORY));
  std::size_t path_length = 4;
  for (int level = 0; level < 3000; ++level) {
    ASSERT_EQ(::mkdirat(fd.get(), "d", 0755), 0) << level;
    UniqueFd sub(::openat(fd.get(), "d", O_RDONLY | O_DIRECTORY));
    ASSERT_TRUE(sub) << level;
    if (level % 100 == 0) {
      UniqueFd file(::openat(sub.get(), "f", O_CREAT | O_WRONLY, 0644));
    }
    fd = std::move(sub);
    path_length += 2;
  }
  ASSERT_GT(path_length, static_cast<std::size_t>(PATH_MAX));
  fd.reset();
  const RemovalResult r = remove("deep");
  EXPECT_TRUE(r.complete) << r.first_error;
  EXPECT_EQ(r.removed, 1u + 3000u + 30u);
  EXPECT_FALSE(fs::exists(tmp / "deep"));
}

TEST_F(Removal, UnreadableAndReadOnlyDirectories) {
  for (const char* mode_dir : {"m000", "m500", "m300", "m100"}) {
    write_file(tmp / "tree" / mode_dir / "sub/f", "f");
    write_file(tmp / "tree" / mode_dir / "g", "g");
  }
  fs::permissions(tmp / "tree/m000/sub", fs::perms::none);
  fs::permissions(tmp / "tree/m000", fs::perms::none);
  fs::permissions(tmp / "tree/m500", fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(tmp / "tree/m300", fs::perms::owner_write | fs::perms::owner_exec);
  fs::permissions(tmp / "tree/m100", fs::perms::owner_exec);
  fs::permissions(tmp / "tree", fs::perms::owner_read | fs::perms::owner_exec);
  const RemovalResult r = remove("tree");
  EXPECT_TRUE(r.complete) << r.first_error;
  EXPECT_EQ(r.removed, 1u + 4u * 4u);
  EXPECT_FALSE(fs::exists(tmp / "tree"));
}

// As a non-root owner (nobody), whose access the modes really limit: it makes its own
// directories accessible first; what it does not own stays, reported once by path.
TEST_F(Removal, ANonRootOwnerRemovesItsOwnUnreadableDirectories) {
  const passwd* nobody = ::getpwnam("nobody");
  if (::geteuid() != 0 || nobody == nullptr) GTEST_SKIP() << "needs root and a user 'nobody'";
  const fs::path tree = tmp / "tree";
  for (const char* d : {"m000/sub", "m500/sub", "m300/sub", "deep/a/b/c/d/e"}) write_file(tree / d / "f", "f");
  write_file(tree / "foreign/f", "f");  // stays root's
  for (auto it = fs::recursive_directory_iterator(tree); it != fs::end(it); ++it) {
    if (it->path().parent_path() != tree / "foreign") {
      ASSERT_EQ(::lchown(it->path().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
    }
  }
  ASSERT_EQ(::lchown(tree.c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  ASSERT_EQ(::lchown((tree / "foreign").c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(tmp.path().c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  for (const auto& [dir, mode] : std::vector<std::pair<std::string, mode_t>>{
           {"m000/sub", 0}, {"m000", 0}, {"m500/sub", 0500}, {"m500", 0500}, {"m300", 0300}, {"deep/a/b/c", 0},
           {"deep/a/b", 0500}, {"deep/a", 0100}})
    ASSERT_EQ(::chmod((tree / dir).c_str(), mode), 0);

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) ::_exit(10);
    UniqueFd parent(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY));
    std::atomic<int> reported{0};
    const RemovalResult r = remove_tree(parent.get(), "tree", {.on_error = [&](const std::string&, int) { ++reported; }});
    const std::string report = std::to_string(r.failures) + " " + std::to_string(reported.load()) + " " + r.first_error;
    if (::write(pipe_fds[1], report.data(), report.size()) < 0) ::_exit(11);
    ::_exit(r.complete ? 1 : 0);  // 0: incomplete, as it must be with foreign/ in it
  }
  ::close(pipe_fds[1]);
  char buf[512] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  EXPECT_EQ(bkptest::wait_for(child), 0);
  EXPECT_GT(n, 0);
  EXPECT_EQ(std::string(buf), "1 1 tree/foreign/f: Permission denied");
  // Only foreign/ and what holds it are left.
  std::vector<std::string> left;
  for (auto it = fs::recursive_directory_iterator(tmp.path()); it != fs::end(it); ++it)
    left.push_back(fs::relative(it->path(), tmp.path()).string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"tree", "tree/foreign", "tree/foreign/f"}));
}

TEST_F(Removal, AMountPointInsideIsLeftAloneAndReported) {
  write_file(tmp / "tree/a/f", "f");
  fs::create_directories(tmp / "tree/a/mnt");
  if (::mount("bkp-test", (tmp / "tree/a/mnt").c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{tmp / "tree/a/mnt"};
  write_file(tmp / "tree/a/mnt/other-fs", "x");
  const RemovalResult r = remove("tree");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.failures, 1u);
  EXPECT_EQ(r.first_error, "tree/a/mnt: Device or resource busy");
  EXPECT_EQ(errors, std::vector<std::string>{"tree/a/mnt " + std::to_string(EBUSY)});
  EXPECT_TRUE(fs::exists(tmp / "tree/a/mnt/other-fs"));
  EXPECT_FALSE(fs::exists(tmp / "tree/a/f"));
}

TEST_F(Removal, ABindMountInsideOrAsTheTreeIsNotEmptied) {
  write_file(tmp / "outside/precious", "p");
  write_file(tmp / "tree/a/f", "f");
  fs::create_directories(tmp / "tree/a/bound");
  if (::mount((tmp / "outside").c_str(), (tmp / "tree/a/bound").c_str(), nullptr, MS_BIND, nullptr) != 0)
    GTEST_SKIP() << "cannot bind-mount here";
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{tmp / "tree/a/bound"};
  RemovalResult r = remove("tree");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.first_error, "tree/a/bound: Device or resource busy");
  EXPECT_TRUE(fs::exists(tmp / "outside/precious"));
  EXPECT_FALSE(fs::exists(tmp / "tree/a/f"));
  // The bind mount itself given as the tree.
  r = remove("tree/a/bound");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.failures, 1u);
  EXPECT_EQ(r.first_error, "tree/a/bound: Device or resource busy");
  EXPECT_TRUE(fs::exists(tmp / "outside/precious"));
}
