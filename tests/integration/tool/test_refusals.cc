// Every refusal: exit code, one stderr line naming the culprit, DEST byte-for-byte unchanged.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

constexpr uid_t kNobody = 65534;

class Refusals : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "f", "data\n");
    ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
    before = destination_state(dest);
  }
  // Runs bkp, expects `code` and a single stderr line mentioning `culprit`, DEST unchanged.
  void expect_refusal(const std::vector<std::string>& args, int code, const std::string& culprit,
                      const RunOptions& options = {}) {
    const auto r = run_bkp(args, options);
    EXPECT_EQ(r.status, code) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(culprit), std::string::npos) << r.err;
    EXPECT_EQ(destination_state(dest), before);
  }

  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
  std::string before;
};

}  // namespace

TEST_F(Refusals, MissingSource) {
  expect_refusal({"-i", "-s", src.string(), (tmp / "gone").string(), "-d", dest.string()}, 1, (tmp / "gone").string());
}

TEST_F(Refusals, SourceNotADirectory) {
  expect_refusal({"-i", "-s", (src / "f").string(), "-d", dest.string()}, 1, (src / "f").string() + ": not a directory");
}

TEST_F(Refusals, SourceThatIsASymlinkToADirectory) {
  // rsync would store the link itself: a backup of nothing. Refused, naming the target.
  fs::create_directory_symlink(src, tmp / "link");
  expect_refusal({"-i", "-s", (tmp / "link").string(), "-d", dest.string()}, 1,
                 (tmp / "link").string() + ": is a symlink to " + fs::canonical(src).string());
}

TEST_F(Refusals, EmptySourceUnlessAllowed) {
  fs::create_directories(tmp / "empty");
  expect_refusal({"-i", "-s", (tmp / "empty").string(), "-d", dest.string()}, 1, (tmp / "empty").string() + ": is empty");
  const auto r = run_bkp({"-i", "--allow-empty", "-s", (tmp / "empty").string(), "-d", dest.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_directory(bkp::Destination::scan(dest).newest_complete()->path / "empty"));
}

TEST_F(Refusals, UnreadableSource) {
  // As root everything is readable, so the run is made as nobody.
  fs::create_directories(tmp / "locked/x");
  ::chmod((tmp / "locked").c_str(), 0700);
  const fs::path own_dest = tmp / "nobody-dest";
  fs::create_directories(own_dest);
  ::chown(own_dest.c_str(), kNobody, kNobody);
  const auto r = run_bkp({"-s", (tmp / "locked").string(), "-d", own_dest.string()}, {.env = {}, .uid = kNobody, .cwd = "/"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find((tmp / "locked").string() + ": cannot read it"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(own_dest));
}

TEST_F(Refusals, DestinationNotWritable) {
  write_file(tmp / "src2/f", "x");
  ::chmod((tmp / "src2").c_str(), 0755);
  const auto r = run_bkp({"-i", "-s", (tmp / "src2").string(), "-d", dest.string()}, {.env = {}, .uid = kNobody, .cwd = "/"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(dest.string() + ": not writable"), std::string::npos) << r.err;
  EXPECT_EQ(destination_state(dest), before);
}

TEST_F(Refusals, DestinationIsAFile) {
  write_file(tmp / "file-dest", "x");
  const auto r = run_bkp({"-s", src.string(), "-d", (tmp / "file-dest").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("file-dest: not a directory"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(tmp / "file-dest"), "x");
}

TEST_F(Refusals, FilesystemWithoutHardLinks) {
  // This kernel has no vfat; nolinkfs is a real FUSE filesystem that refuses hard links.
  const fs::path backing = tmp / "backing", mnt = tmp / "nolink";
  fs::create_directories(backing);
  fs::create_directories(mnt);
  const char* nolinkfs = std::getenv("NOLINKFS");
  ASSERT_NE(nolinkfs, nullptr);
  const auto mounted = run({nolinkfs, backing.string(), mnt.string()});
  if (mounted.status != 0) GTEST_SKIP() << "cannot mount FUSE here: " << mounted.err;
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const auto r = run_bkp({"-s", src.string(), "-d", mnt.string()});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(mnt.string() + ": its filesystem cannot hard link"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(mnt));
  EXPECT_TRUE(fs::is_empty(backing));
}

TEST_F(Refusals, TwoSourcesWithTheSameName) {
  write_file(tmp / "other/src/g", "g");
  expect_refusal({"-i", "-s", src.string(), (tmp / "other/src").string(), "-d", dest.string()}, 1,
                 "same name 'src'");
}

TEST_F(Refusals, RsyncMissing) {
  expect_refusal({"-i", "-s", src.string(), "-d", dest.string()}, 1, "rsync: not found in PATH",
                 {.env = {{"PATH", "/nonexistent"}}, .uid = static_cast<uid_t>(-1), .cwd = {}});
}

TEST_F(Refusals, SecondRunWhileTheLockIsHeldNamesTheHolder) {
  // The first run holds the lock while a slow stand-in for rsync sleeps.
  const pid_t first = ::fork();
  if (first == 0) {
    ::setenv("BKP_RSYNC", fake_rsync().c_str(), 1);
    ::setenv("FAKE_RSYNC_SLEEP", "3", 1);
    ::setenv("FAKE_RSYNC_STARTED", (tmp / "rsync-started").c_str(), 1);
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  // Wait until the first run is inside rsync, holding the lock.
  ASSERT_TRUE(eventually([&] { return fs::exists(tmp / "rsync-started"); }));
  const std::string holder = std::to_string(first);
  const std::string during = destination_state(dest);
  const auto r = run_bkp({"-i", "-s", src.string(), "-d", dest.string()});
  // It did not wait for the lock: the first run is still in its rsync.
  EXPECT_EQ(::waitpid(first, nullptr, WNOHANG), 0) << "the second run waited for the first to end";
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("pid " + holder), std::string::npos) << r.err;
  EXPECT_EQ(destination_state(dest), during);
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(Refusals, UsageErrorsExit2) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"-s", src.string()}, {"-d", dest.string()}, {"-s", src.string(), "-d", dest.string(), "--frobnicate"},
           {"list"}, {"-s", src.string(), "-d", dest.string(), "--config", (tmp / "no-such.conf").string()}}) {
    const auto r = run_bkp(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  EXPECT_EQ(destination_state(dest), before);
}
