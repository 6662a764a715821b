#include <gtest/gtest.h>

#include "options.h"

namespace bkpfs {
namespace {

TEST(Options, MountForm) {
  Options o = parse_command_line({"mount", "/d", "/m", "-f", "-o", "allow_other", "-v"});
  EXPECT_EQ(o.command, Command::Mount);
  EXPECT_EQ(o.dest, "/d");
  EXPECT_EQ(o.mountpoint, "/m");
  EXPECT_TRUE(o.foreground);
  EXPECT_EQ(o.mount.fuse, std::vector<std::string>{"allow_other"});
  EXPECT_EQ(o.mount.verbosity, Verbosity::Verbose);
}

TEST(Options, MountFuse3FormDropsFstabWords) {
  // What mount.fuse3 passes for "ro,allow_other,nofail" as root.
  Options o = parse_command_line({"/d", "/m", "-o", "ro,allow_other,nofail,_netdev,rw,defaults,x-systemd.automount,dev,suid"});
  EXPECT_EQ(o.command, Command::Mount);
  EXPECT_FALSE(o.foreground);
  EXPECT_EQ(o.mount.fuse, std::vector<std::string>{"allow_other"});
  EXPECT_EQ(o.mount.dropped.size(), 8u);
}

TEST(Options, UnknownMountOptionIsAUsageError) {
  EXPECT_THROW(parse_command_line({"mount", "/d", "/m", "-o", "allow_other,bogus"}), UsageError);
}

TEST(Options, OwnOptionsInsideDashO) {
  EXPECT_EQ(parse_command_line({"/d", "/m", "-o", "quiet"}).mount.verbosity, Verbosity::Quiet);
  EXPECT_EQ(parse_command_line({"/d", "/m", "-overbose"}).mount.verbosity, Verbosity::Verbose);
}

TEST(Options, ReadAccelerators) {
  const MountOptions plain = parse_command_line({"/d", "/m", "-o", "ro"}).mount;
  EXPECT_FALSE(plain.passthrough);
  EXPECT_EQ(plain.prefetch_bytes, kDefaultPrefetchBytes);
  // As mount.fuse3 passes an fstab line "ro,passthrough,prefetch=512k,nofail".
  const MountOptions fstab = parse_command_line({"/d", "/m", "-o", "ro,passthrough,prefetch=512k,nofail"}).mount;
  EXPECT_TRUE(fstab.passthrough);
  EXPECT_EQ(fstab.prefetch_bytes, 512u << 10);
  EXPECT_TRUE(fstab.fuse.empty()) << "bkpfs's own words are not handed to libfuse";
  EXPECT_EQ(split_mount_options({"prefetch=8M"}).prefetch_bytes, 8u << 20);
  EXPECT_EQ(split_mount_options({"prefetch=65536"}).prefetch_bytes, 65536u);
  EXPECT_EQ(split_mount_options({"prefetch=4M,noprefetch"}).prefetch_bytes, 0u);
  EXPECT_EQ(split_mount_options({"prefetch=0"}).prefetch_bytes, 0u);
  for (const char* bad : {"prefetch=", "prefetch=4X", "prefetch=-1", "prefetch=M", "prefetch=99999999999999"})
    EXPECT_THROW(split_mount_options({bad}), UsageError) << bad;
}

TEST(Options, Umount) {
  Options o = parse_command_line({"umount", "/m"});
  EXPECT_EQ(o.command, Command::Umount);
  EXPECT_EQ(o.mountpoint, "/m");
  EXPECT_THROW(parse_command_line({"umount"}), UsageError);
  EXPECT_THROW(parse_command_line({"umount", "/m", "-o", "ro"}), UsageError);
}

TEST(Options, HelpVersionAndMistakes) {
  EXPECT_EQ(parse_command_line({"--help"}).command, Command::Help);
  EXPECT_EQ(parse_command_line({"-V"}).command, Command::Version);
  EXPECT_THROW(parse_command_line({}), UsageError);
  EXPECT_THROW(parse_command_line({"mount", "/d"}), UsageError);
  EXPECT_THROW(parse_command_line({"mount", "/d", "/m", "/x"}), UsageError);
  EXPECT_THROW(parse_command_line({"mount", "/d", "/m", "--nope"}), UsageError);
  EXPECT_THROW(parse_command_line({"mount", "/d", "/m", "-v", "-q"}), UsageError);
}

TEST(Options, FuseArgumentsAlwaysReadOnlyAndPermissionChecked) {
  Options o = parse_command_line({"mount", "/back,up", "/m", "-o", "allow_other,noatime"});
  const auto args = fuse_arguments(o);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[1], "-o");
  EXPECT_EQ(args[2], "ro,nosuid,nodev,default_permissions,subtype=bkpfs,fsname=/back\\,up,allow_other,noatime");
  Options debug = parse_command_line({"mount", "/d", "/m", "-o", "debug"});
  EXPECT_EQ(fuse_arguments(debug).back(), "-d");
}

}  // namespace
}  // namespace bkpfs
