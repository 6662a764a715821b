#include <gtest/gtest.h>

#include "preflight.h"

namespace bkpfs {
namespace {

TEST(Preflight, MountPointsFromMountinfo) {
  const std::string text =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "90 22 0:50 / /mnt/with\\040space rw - fuse.bkpfs /d rw\n";
  EXPECT_EQ(parse_mount_points(text), (std::vector<std::string>{"/proc", "/mnt/with space"}));
}

TEST(Preflight, RootIsAMountPointAndTmpFilesAreNot) {
  EXPECT_TRUE(is_mount_point("/"));
  EXPECT_FALSE(is_mount_point("/definitely/not/here"));
}

TEST(Preflight, Refusals) {
  EXPECT_THROW(check_destination("/definitely/not/here"), Refusal);
  EXPECT_THROW(check_destination("/proc/self"), Refusal);  // a directory, not a destination
  EXPECT_THROW(check_mountpoint("/definitely/not/here"), Refusal);
  EXPECT_THROW(check_mountpoint("/etc/hostname"), Refusal);
  EXPECT_THROW(check_mountpoint("/"), Refusal);  // already a mount point
}

}  // namespace
}  // namespace bkpfs
