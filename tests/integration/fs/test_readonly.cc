// Read-only and permission-checked: every kind of write fails with EROFS, and with
// allow_other an unprivileged user reads exactly what the modes allow.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// errno of a call that must fail, or 0 if it succeeded.
int error_of(const std::function<int()>& call) {
  errno = 0;
  return call() < 0 ? errno : 0;
}

TEST(ReadOnly, EveryWriteFailsWithErofs) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  fs::create_directories(add_snapshot(dest, "0", name) / "src/dir");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const std::string dir = (m / "by-date" / name / "src").string();
  const std::string file = dir + "/file.txt";
  const std::string root = m.path().string();

  for (const std::string& at : {dir, root, (m / "by-date").string()}) {
    SCOPED_TRACE(at);
    EXPECT_EQ(error_of([&] { return ::open((at + "/new").c_str(), O_WRONLY | O_CREAT, 0644); }), EROFS);
    EXPECT_EQ(error_of([&] { return ::creat((at + "/new").c_str(), 0644); }), EROFS);
    EXPECT_EQ(error_of([&] { return ::mkdir((at + "/newdir").c_str(), 0755); }), EROFS);
    EXPECT_EQ(error_of([&] { return ::symlink("x", (at + "/newlink").c_str()); }), EROFS);
    EXPECT_EQ(error_of([&] { return ::mknod((at + "/newfifo").c_str(), S_IFIFO | 0644, 0); }), EROFS);
  }
  EXPECT_EQ(error_of([&] { return ::open(file.c_str(), O_WRONLY); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::open(file.c_str(), O_RDWR); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::open(file.c_str(), O_RDONLY | O_TRUNC); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::open(file.c_str(), O_WRONLY | O_APPEND); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::truncate(file.c_str(), 0); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::unlink(file.c_str()); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::rmdir((dir + "/dir").c_str()); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::rename(file.c_str(), (dir + "/renamed").c_str()); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::link(file.c_str(), (dir + "/hard").c_str()); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::chmod(file.c_str(), 0777); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::chown(file.c_str(), 1, 1); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::utimes(file.c_str(), nullptr); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::setxattr(file.c_str(), "user.x", "1", 1, 0); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::removexattr(file.c_str(), "user.x"); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::unlink((root + "/latest").c_str()); }), EROFS);
  EXPECT_EQ(error_of([&] { return ::rmdir((m / "by-date" / name).c_str()); }), EROFS);
  // Nothing changed underneath.
  EXPECT_EQ(read_file(dest / "0" / name / "src/file.txt"), "snapshot " + name + "\n");
  EXPECT_EQ(list_dir(dest / "0" / name / "src").size(), 2u);
}

TEST(ReadOnly, NothingOutsideDestIsReachable) {
  TempDir tmp;
  const fs::path dest = tmp / "dest", outside = tmp / "outside";
  const std::string good = snapshot_name(0), linked = snapshot_name(60);
  fs::create_directories(outside / "src");
  write_file(outside / "src/secret", "outside\n");
  const fs::path src = add_snapshot(dest, "0", good) / "src";
  // A snapshot "folder" that is a symlink out of DEST, with a complete journal section.
  fs::create_directory_symlink(outside, dest / "0" / linked);
  write_journal(dest / "0", read_file(dest / "0/cfg.ini") + section(linked));
  fs::create_directory_symlink(outside, src / "dirlink");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-date"), std::vector<std::string>{good});
  EXPECT_FALSE(fs::exists(m / "by-date" / linked / "src/secret"));
  // Inside a snapshot a symlink is only a symlink: bkpfs never resolves it itself.
  const fs::path shown = m / "by-date" / good / "src/dirlink";
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(shown)));
  EXPECT_EQ(fs::read_symlink(shown), outside);
  EXPECT_EQ(list_dir(m / "by-date" / good / "src").size(), 2u);  // file.txt, dirlink
}

TEST(ReadOnly, SpecialFilesAreListedAndNeverBlock) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for mknod";
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((src / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "by-date" / name / "src";
  struct stat st {};
  ASSERT_EQ(::lstat((shown / "null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(error_of([&] { return ::open((shown / "null").c_str(), O_RDONLY); }), EACCES);  // nodev
  int fd = ::open((shown / "fifo").c_str(), O_RDONLY | O_NONBLOCK);  // a fifo opens without a writer
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
  // (A fifo is the kernel's, not the snapshot's data: as on any read-only filesystem it
  // can be opened for writing when it has a reader, and writes go to that reader only.)
}

TEST(ReadOnly, UnprivilegedUserReadsWhatModesAllow) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_file(src / "public", "everyone\n", 0644);
  write_file(src / "secret", "root only\n", 0600);
  fs::create_directories(src / "private");
  write_file(src / "private/inside", "hidden\n", 0644);
  ::chmod((src / "private").c_str(), 0700);
  Mount m(dest, tmp / "mnt", {"-o", "allow_other"});
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "by-date" / name / "src";

  auto read_as_nobody = [&](const fs::path& p) {
    return run_as(kNobody, kNogroup, [&] {
      int fd = ::open(p.c_str(), O_RDONLY);
      if (fd < 0) return errno == EACCES ? 13 : 1;
      char buf[64];
      return ::read(fd, buf, sizeof(buf)) > 0 ? 0 : 2;
    });
  };
  EXPECT_EQ(read_as_nobody(shown / "public"), 0);
  EXPECT_EQ(read_as_nobody(shown / "secret"), 13);
  EXPECT_EQ(read_as_nobody(shown / "private/inside"), 13);  // no search permission on private/
  // Root still reads everything (bkpfs itself never widens or narrows access).
  EXPECT_EQ(read_file(shown / "secret"), "root only\n");
}

TEST(ReadOnly, OtherUsersSeeNothingWithoutAllowOther) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  add_snapshot(dest, "0", snapshot_name(0));
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const fs::path latest = m / "latest";
  // 0: seen; 13: refused (EACCES, as FUSE answers other users); 1: any other failure.
  // run_as itself exits 125 when it cannot switch users, which must not pass for "refused".
  auto stat_as = [&](uid_t uid, gid_t gid) {
    return run_as(uid, gid, [&] {
      struct stat st {};
      if (::stat(latest.c_str(), &st) == 0) return 0;
      return errno == EACCES ? 13 : 1;
    });
  };
  EXPECT_EQ(stat_as(kNobody, kNogroup), 13);
  EXPECT_EQ(stat_as(0, 0), 0);  // the same call as the owner sees it
}

}  // namespace
}  // namespace bkpfstest
