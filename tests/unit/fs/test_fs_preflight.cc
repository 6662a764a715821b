#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "mountinfo.h"
#include "preflight.h"
#include "test_support.h"

namespace bkpfs {
namespace {

// On a mount the test makes itself: "/" need not be a mount point (a chroot).
TEST(Preflight, MountDetectionOnAMountOfItsOwn) {
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "needs root for a private mount";
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  bkptest::TempDir tmp;
  const auto dir = tmp / "mnt";
  std::filesystem::create_directories(dir / "sub");
  EXPECT_FALSE(is_mount_point(dir));
  ASSERT_EQ(::mount("none", dir.c_str(), "tmpfs", 0, "size=1m"), 0);
  EXPECT_TRUE(is_mount_point(dir));
  EXPECT_TRUE(is_mount_point(dir.string() + "/"));
  EXPECT_THROW(check_mountpoint(dir), Refusal);  // already mounted
  const auto entry = bkp::mount_at(dir);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->type, "tmpfs");
  ASSERT_EQ(::umount(dir.c_str()), 0);
  EXPECT_FALSE(is_mount_point(dir));
  EXPECT_FALSE(is_mount_point("/definitely/not/here"));
}

TEST(Preflight, Refusals) {
  EXPECT_THROW(check_destination("/definitely/not/here"), Refusal);
  EXPECT_THROW(check_destination("/proc/self"), Refusal);  // a directory, not a destination
  EXPECT_THROW(check_mountpoint("/definitely/not/here"), Refusal);
  EXPECT_THROW(check_mountpoint("/etc/hostname"), Refusal);
}

TEST(Preflight, NonEmptyMountPointIsNoticed) {
  bkptest::TempDir tmp;
  std::filesystem::create_directories(tmp / "empty");
  EXPECT_FALSE(has_entries(tmp / "empty"));
  bkptest::write_file(tmp / "full/x", "x");
  EXPECT_TRUE(has_entries(tmp / "full"));
}

}  // namespace
}  // namespace bkpfs
