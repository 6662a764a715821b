// The command line: refusals with one clear line and exit status 1 (2 for usage), the
// daemon form, bkpfs umount, SIGTERM, and the fstab form through mount.fuse3.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "mount_fixture.h"
#include "mountinfo.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

int lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

struct Dest {
  TempDir tmp;
  fs::path dest = tmp / "dest";
  fs::path mnt = tmp / "mnt";
  Dest() {
    add_snapshot(dest, "0", snapshot_name(0));
    fs::create_directories(mnt);
  }
};

// A refusal: exit 1, one line on stderr naming `path` and containing `reason`, no mount.
void expect_refusal(const RunResult& r, const fs::path& path, const std::string& reason, const fs::path& mnt) {
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bkpfs: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_FALSE(is_mounted(mnt));
}

TEST(Cli, MissingDestination) {
  Dest d;
  const fs::path missing = d.tmp / "nope";
  expect_refusal(run({bkpfs_binary(), "mount", missing.string(), d.mnt.string()}), missing,
                 "No such file or directory", d.mnt);
}

TEST(Cli, DestinationThatIsNotADestination) {
  Dest d;
  const fs::path plain = d.tmp / "plain";
  fs::create_directories(plain / "stuff");
  expect_refusal(run({bkpfs_binary(), "mount", plain.string(), d.mnt.string()}), plain, "not a bkp destination",
                 d.mnt);
}

TEST(Cli, MissingMountpoint) {
  Dest d;
  const fs::path missing = d.tmp / "no-mnt";
  expect_refusal(run({bkpfs_binary(), "mount", d.dest.string(), missing.string()}), missing,
                 "No such file or directory", missing);
}

TEST(Cli, MountpointThatIsAFile) {
  Dest d;
  const fs::path file = d.tmp / "file";
  write_file(file, "x");
  expect_refusal(run({bkpfs_binary(), "mount", d.dest.string(), file.string()}), file, "not a directory", file);
}

TEST(Cli, MountpointAlreadyMounted) {
  Dest d;
  Mount m(d.dest, d.mnt);
  ASSERT_TRUE(m.ready());
  RunResult r = run({bkpfs_binary(), "mount", d.dest.string(), d.mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(d.mnt.string() + ": already mounted"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(m / "latest"));  // the first mount is untouched
}

TEST(Cli, FuseDeviceUnavailable) {
  if (::geteuid() != 0 || run({"unshare", "-m", "true"}).status != 0) GTEST_SKIP() << "needs mount namespaces";
  Dest d;
  // In a private mount namespace, an empty /dev hides /dev/fuse from bkpfs only.
  RunResult r = run({"unshare", "-m", "sh", "-c",
                     "mount -t tmpfs none /dev && exec \"$0\" mount \"$1\" \"$2\"", bkpfs_binary(),
                     d.dest.string(), d.mnt.string()});
  expect_refusal(r, "/dev/fuse", "No such file or directory", d.mnt);
}

TEST(Cli, UsageErrorsExitTwo) {
  Dest d;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"mount", d.dest.string()},
           {"mount", d.dest.string(), d.mnt.string(), "-o", "frobnicate"},
           {"mount", d.dest.string(), d.mnt.string(), "--bogus"},
           {"umount"}}) {
    std::vector<std::string> argv{bkpfs_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
  }
  RunResult r = run({bkpfs_binary(), "mount", d.dest.string(), d.mnt.string(), "-o", "ro,frobnicate"});
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

TEST(Cli, HelpAndVersion) {
  RunResult help = run({bkpfs_binary(), "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("bkpfs mount DEST MOUNTPOINT"), std::string::npos);
  EXPECT_NE(help.out.find("fuse.bkpfs"), std::string::npos);
  RunResult version = run({bkpfs_binary(), "--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("bkpfs ", 0), 0u) << version.out;
}

TEST(Cli, DaemonMountIsUsableAtOnceAndUmountUnmounts) {
  Dest d;
  RunResult r = run({bkpfs_binary(), "mount", d.dest.string(), d.mnt.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  // The parent returned: the mount is there and answers right away.
  const bool mounted = is_mounted(d.mnt);
  EXPECT_TRUE(mounted);
  EXPECT_EQ(list_dir(d.mnt / "by-date"), std::vector<std::string>{snapshot_name(0)});
  RunResult u = run({bkpfs_binary(), "umount", d.mnt.string()});
  EXPECT_EQ(u.status, 0) << u.err;
  EXPECT_FALSE(is_mounted(d.mnt));
  if (is_mounted(d.mnt)) run({"fusermount3", "-u", "-z", d.mnt.string()});
  RunResult again = run({bkpfs_binary(), "umount", d.mnt.string()});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("not mounted"), std::string::npos) << again.err;
}

TEST(Cli, UmountEndsAForegroundMount) {
  Dest d;
  Mount m(d.dest, d.mnt);
  ASSERT_TRUE(m.ready());
  RunResult u = run({bkpfs_binary(), "umount", d.mnt.string()});
  EXPECT_EQ(u.status, 0) << u.err;
  EXPECT_EQ(m.wait_exit(5s), 0) << m.stderr_text();
  EXPECT_FALSE(is_mounted(d.mnt));
}

TEST(Cli, SigtermAndSigintUnmountCleanly) {
  for (int sig : {SIGTERM, SIGINT}) {
    Dest d;
    Mount m(d.dest, d.mnt);
    ASSERT_TRUE(m.ready());
    ASSERT_TRUE(fs::exists(m / "latest"));
    ASSERT_EQ(::kill(m.pid(), sig), 0);
    EXPECT_EQ(m.wait_exit(5s), 0) << m.stderr_text();
    EXPECT_FALSE(is_mounted(d.mnt));
  }
}

TEST(Cli, FstabFormThroughMountFuse3) {
  if (::geteuid() != 0 || ::access("/sbin/mount.fuse3", X_OK) != 0) GTEST_SKIP() << "needs root and mount.fuse3";
  Dest d;
  // What mount(8) runs for "DEST MNT fuse.bkpfs ro,allow_other,nofail,_netdev 0 0"; mount.fuse3
  // finds bkpfs in PATH and calls "bkpfs DEST MNT -o ro,allow_other,...,dev,suid".
  RunOptions with_path;
  with_path.env["PATH"] = fs::path(bkpfs_binary()).parent_path().string() + ":" + std::getenv("PATH");
  RunResult r = run({"/sbin/mount.fuse3", d.dest.string(), d.mnt.string(), "-t", "fuse.bkpfs", "-o",
                     "ro,allow_other,nofail,_netdev,noauto,user,defaults,x-systemd.automount"},
                    with_path);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(is_mounted(d.mnt));
  EXPECT_EQ(list_dir(d.mnt / "by-date"), std::vector<std::string>{snapshot_name(0)});
  const auto mounted = bkp::mount_at(d.mnt);
  ASSERT_TRUE(mounted);
  EXPECT_TRUE(mounted->options.starts_with("ro,nosuid,nodev")) << mounted->options;
  EXPECT_EQ(mounted->type, "fuse.bkpfs");
  EXPECT_EQ(mounted->source, d.dest.string());
  EXPECT_EQ(run({bkpfs_binary(), "umount", d.mnt.string()}).status, 0);
  if (is_mounted(d.mnt)) run({"fusermount3", "-u", "-z", d.mnt.string()});
}

// Issue 8, item 6: root's fusermount3 unmounts anything; bkpfs umount only bkpfs.
TEST(Cli, UmountRefusesWhatIsNotBkpfs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a bind mount";
  Dest d;
  fs::create_directories(d.tmp / "bound");
  write_file(d.tmp / "bound/keep", "x");
  ASSERT_EQ(run({"mount", "--bind", (d.tmp / "bound").string(), d.mnt.string()}).status, 0);
  RunResult r = run({bkpfs_binary(), "umount", d.mnt.string()});
  const bool still = is_mounted(d.mnt);
  run({"umount", d.mnt.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bkpfs: " + d.mnt.string() + ": not a bkpfs mount"), std::string::npos) << r.err;
  EXPECT_TRUE(still) << "the bind mount was unmounted";
  RunResult proc = run({bkpfs_binary(), "umount", "/proc"});
  EXPECT_EQ(proc.status, 1);
  EXPECT_NE(proc.err.find("not a bkpfs mount (proc"), std::string::npos) << proc.err;
  EXPECT_TRUE(fs::exists("/proc/self/status"));
}

TEST(Cli, UmountOfABusyMountSaysSo) {
  Dest d;
  Mount m(d.dest, d.mnt);
  ASSERT_TRUE(m.ready());
  RunOptions inside;
  inside.cwd = m / "latest/src";
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t user = bkptest::spawn({"sleep", "60"}, inside, null_fd, null_fd);
  ::close(null_fd);
  ASSERT_TRUE(eventually([&] { return fs::read_symlink("/proc/" + std::to_string(user) + "/cwd").string().starts_with(d.mnt.string()); }, 5s));
  RunResult r = run({bkpfs_binary(), "umount", d.mnt.string()});
  ::kill(user, SIGKILL);
  bkptest::wait_for(user);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("bkpfs: " + d.mnt.string() + ": busy", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find("fusermount3"), std::string::npos) << r.err;
  EXPECT_TRUE(is_mounted(d.mnt));
}

TEST(Cli, UmountTakesARelativePathOfAStaleMount) {
  Dest d;
  Mount m(d.dest, d.mnt);
  ASSERT_TRUE(m.ready());
  ASSERT_EQ(::kill(m.pid(), SIGKILL), 0);
  m.wait_exit(5s);
  struct stat st {};
  ASSERT_NE(::stat(d.mnt.c_str(), &st), 0);
  ASSERT_EQ(errno, ENOTCONN);  // stale: the daemon is gone, the mount is not
  RunOptions from_tmp;
  from_tmp.cwd = d.tmp.path();
  RunResult r = run({bkpfs_binary(), "umount", "mnt"}, from_tmp);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(is_mounted(d.mnt));
}

// Issue 8, item 7: fusermount3's auto_unmount checks that the mount is dead by opening it.
TEST(Cli, AutoUnmountRemovesTheMountOfAKilledDaemon) {
  Dest d;
  Mount m(d.dest, d.mnt, {"-o", "auto_unmount"});
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(d.mnt / "by-date"), std::vector<std::string>{snapshot_name(0)});
  EXPECT_FALSE(list_dir(d.mnt / "latest/src").empty());
  ASSERT_EQ(::kill(m.pid(), SIGKILL), 0);
  m.wait_exit(5s);
  EXPECT_TRUE(eventually([&] { return !is_mounted(d.mnt); }, 10s)) << "stale mount left";
}

// Issue 8, item 10.
TEST(Cli, NonEmptyMountpointGivesAWarning) {
  Dest d;
  write_file(d.mnt / "hidden-file", "x");
  RunResult r = run({bkpfs_binary(), "mount", d.dest.string(), d.mnt.string()});
  const bool mounted = is_mounted(d.mnt);
  if (mounted) run({bkpfs_binary(), "umount", d.mnt.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(mounted);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bkpfs: warning: mount point " + d.mnt.string() + " is not empty"), std::string::npos) << r.err;
  RunResult quiet = run({bkpfs_binary(), "mount", d.dest.string(), d.mnt.string(), "-q"});
  if (is_mounted(d.mnt)) run({bkpfs_binary(), "umount", d.mnt.string()});
  EXPECT_EQ(quiet.err, "");
}

TEST(Cli, FuseDeviceDeniedToTheUserNamesPermissions) {
  if (::geteuid() != 0 || run({"unshare", "-m", "true"}).status != 0) GTEST_SKIP() << "needs mount namespaces";
  Dest d;
  // A /dev/fuse of mode 0600 in a private mount namespace, and bkpfs run as nobody.
  RunResult r = run({"unshare", "-m", "sh", "-c",
                     "mount -t tmpfs none /dev && mknod -m 600 /dev/fuse c 10 229 && "
                     "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" mount \"$1\" \"$2\"",
                     bkpfs_binary(), d.dest.string(), d.mnt.string()});
  expect_refusal(r, "/dev/fuse", "Permission denied", d.mnt);
  EXPECT_NE(r.err.find("may not open it"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("module"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bkpfstest
