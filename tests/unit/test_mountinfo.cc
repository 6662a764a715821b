// The one parser of /proc/self/mountinfo.
#include <gtest/gtest.h>

#include "mountinfo.h"

namespace {

TEST(Mountinfo, FieldsUnescaped) {
  const std::string text =
      "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
      "90 22 0:50 / /mnt/with\\040space rw - fuse.bkpfs /d\\040e rw\n";
  const auto mounts = bkp::parse_mountinfo(text);
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/proc");
  EXPECT_EQ(mounts[0].type, "proc");
  EXPECT_EQ(mounts[1].mount_point, "/mnt/with space");
  EXPECT_EQ(mounts[1].type, "fuse.bkpfs");
  EXPECT_EQ(mounts[0].options, "rw,nosuid");
  EXPECT_EQ(mounts[1].source, "/d e");
}

TEST(Mountinfo, TheTopmostMountWins) {
  const auto mounts = bkp::parse_mountinfo(
      "1 0 0:1 / / rw - ext4 /dev/vda rw\n"
      "2 1 0:2 / /mnt rw - tmpfs none rw\n"
      "3 2 0:3 / /mnt rw - fuse.bkpfs /dest ro\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts.back().type, "fuse.bkpfs");
  EXPECT_FALSE(bkp::mount_at("/definitely/not/here"));
}

}  // namespace
