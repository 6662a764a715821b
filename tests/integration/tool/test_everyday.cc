// rsync's own outcomes, and the everyday options: list, dry run, excludes, config, logs.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

class Everyday : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "keep.txt", "keep\n");
    write_file(src / "skip.tmp", "skip\n");
    write_file(src / "cache/big", "cache\n");
  }
  RunResult backup(std::vector<std::string> extra, const RunOptions& options = {}) {
    std::vector<std::string> args = {"-s", src.string(), "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bkp(args, options);
  }
  RunOptions with_fake(std::map<std::string, std::string> env) {
    env["BKP_RSYNC"] = fake_rsync();
    return {.env = env, .uid = static_cast<uid_t>(-1), .cwd = {}};
  }
  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
};

}  // namespace

TEST_F(Everyday, VanishedFilesAreAWarningAndTheSnapshotIsComplete) {
  const auto r = backup({}, with_fake({{"FAKE_RSYNC_EXIT", "24"}}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("vanished"), std::string::npos) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 1u);
}

TEST_F(Everyday, UnreadableFilesKeepTheSnapshotButExit3) {
  const auto r = backup({}, with_fake({{"FAKE_RSYNC_EXIT", "23"}}));
  EXPECT_EQ(r.status, 3) << r.err;
  const auto store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 1u);
  EXPECT_EQ(store.newest_complete()->journal.at("rsync_exit"), "23");
  EXPECT_TRUE(store.newest_complete()->journal.count("warning"));
}

TEST_F(Everyday, WorseFailuresLeaveThePartialSnapshot) {
  ASSERT_EQ(backup({"-q"}).status, 0);
  for (auto env : std::vector<std::map<std::string, std::string>>{{{"FAKE_RSYNC_EXIT", "11"}}, {{"FAKE_RSYNC_CRASH", "1"}}}) {
    const auto r = backup({"-i"}, with_fake(env));
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("left partial"), std::string::npos) << r.err;
    const auto store = bkp::Destination::scan(dest);
    EXPECT_EQ(store.complete_count(), 1u);
    EXPECT_FALSE(store.current()->partials().empty());
    EXPECT_NE(journal(dest).find("status = failed"), std::string::npos);
  }
  // The next good run completes, based on the last complete snapshot.
  ASSERT_EQ(backup({"-i"}).status, 0);
  const auto store = bkp::Destination::scan(dest);
  EXPECT_EQ(store.complete_count(), 2u);
  EXPECT_TRUE(store.current()->partials().empty());
}

TEST_F(Everyday, ListShowsSeriesSnapshotsAndSizes) {
  ASSERT_EQ(backup({"-q"}).status, 0);
  ASSERT_EQ(backup({"-q", "-i"}).status, 0);
  auto r = run_bkp({"list", "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 3) << r.out;
  EXPECT_NE(r.out.find("complete"), std::string::npos);
  r = run_bkp({"list", "-d", dest.string(), "--json"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"status\": \"complete\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"added_bytes\": "), std::string::npos) << r.out;
  r = run_bkp({"list", "-d", (tmp / "nothing").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nothing"), std::string::npos);
}

TEST_F(Everyday, DryRunChangesNothing) {
  auto r = backup({"--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dest));
  ASSERT_EQ(backup({"-q"}).status, 0);
  const auto before = destination_state(dest);
  write_file(src / "new.txt", "new\n");
  r = backup({"-i", "-n"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("would transfer"), std::string::npos) << r.err;
  EXPECT_EQ(destination_state(dest), before);
}

TEST_F(Everyday, ExcludesFromTheCommandLineAndAFile) {
  write_file(tmp / "excludes", "cache/\n");
  ASSERT_EQ(backup({"-q", "--exclude", "*.tmp", "--exclude-from", (tmp / "excludes").string()}).status, 0);
  const fs::path snap = bkp::Destination::scan(dest).newest_complete()->path / "src";
  EXPECT_TRUE(fs::exists(snap / "keep.txt"));
  EXPECT_FALSE(fs::exists(snap / "skip.tmp"));
  EXPECT_FALSE(fs::exists(snap / "cache"));
}

TEST_F(Everyday, ExcludesApplyToIncrementsOfATreeTakenWithoutThem) {
  ASSERT_EQ(backup({"-q"}).status, 0);
  ASSERT_EQ(backup({"-q", "-i", "--exclude", "*.tmp", "--exclude", "cache/"}).status, 0);
  const fs::path snap = bkp::Destination::scan(dest).newest_complete()->path / "src";
  EXPECT_TRUE(fs::exists(snap / "keep.txt"));
  EXPECT_FALSE(fs::exists(snap / "skip.tmp"));
  EXPECT_FALSE(fs::exists(snap / "cache"));
}

TEST_F(Everyday, ChecksumCatchesSameSizeSameTimeChanges) {
  ASSERT_EQ(backup({"-q"}).status, 0);
  // Same size and mtime, other content: only --checksum notices.
  struct stat st {};
  ::stat((src / "keep.txt").c_str(), &st);
  write_file(src / "keep.txt", "KEEP\n");
  const timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, (src / "keep.txt").c_str(), times, 0);
  ASSERT_EQ(backup({"-q", "-i"}).status, 0);
  EXPECT_EQ(read_file(bkp::Destination::scan(dest).newest_complete()->path / "src/keep.txt"), "keep\n");
  ASSERT_EQ(backup({"-q", "-i", "-c"}).status, 0);
  EXPECT_EQ(read_file(bkp::Destination::scan(dest).newest_complete()->path / "src/keep.txt"), "KEEP\n");
}

TEST_F(Everyday, ConfigFileQuietAndLogFile) {
  write_file(tmp / "bkp.conf", "sources = " + src.string() + "\ndestination = " + dest.string() +
                                   "\nexclude = *.tmp\nquiet = true\n");
  const auto r = run_bkp({"--config", (tmp / "bkp.conf").string(), "--log-file", (tmp / "bkp.log").string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  const fs::path snap = bkp::Destination::scan(dest).newest_complete()->path / "src";
  EXPECT_FALSE(fs::exists(snap / "skip.tmp"));
  EXPECT_NE(read_file(tmp / "bkp.log").find("complete"), std::string::npos);
}

TEST_F(Everyday, HelpAndVersion) {
  auto r = run_bkp({"--help"});
  EXPECT_EQ(r.status, 0);
  for (const char* opt : {"--sources", "--destination", "--incremental", "--dry-run", "--exclude", "--checksum",
                          "--config", "--log-file", "--allow-empty", "--discard-partial"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt;
  r = run_bkp({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.rfind("bkp ", 0), 0u);
}

TEST(Diff, ListsWhatChangedBetweenSnapshotsByKind) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "same.txt", "same\n");
  write_file(src / "edited.txt", "one\n");
  write_file(src / "gone.txt", "gone\n");
  write_file(src / "mode.txt", "mode\n");
  write_file(src / "becomes-link", "file\n");
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  write_file(src / "edited.txt", "one, edited\n");
  fs::remove(src / "gone.txt");
  fs::permissions(src / "mode.txt", fs::perms(0600));
  fs::remove(src / "becomes-link");
  fs::create_symlink("same.txt", src / "becomes-link");
  write_file(src / "docs/sub/new.txt", "new\n");
  ASSERT_EQ(run_bkp({"-q", "-i", "-s", src.string(), "-d", dest.string()}).status, 0);
  const auto r = run_bkp({"diff", "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "T src/becomes-link\n"
            "+ src/docs/\n"
            "+ src/docs/sub/\n"
            "+ src/docs/sub/new.txt\n"
            "M src/edited.txt\n"
            "- src/gone.txt\n"
            "U src/mode.txt\n");
  const auto store = bkp::Destination::scan(dest);
  const auto snaps = store.complete_snapshots();
  const auto named = run_bkp({"diff", "-d", dest.string(), snaps[0]->name, snaps[1]->name, "--json"});
  ASSERT_EQ(named.status, 0) << named.err;
  EXPECT_NE(named.out.find("\"kind\": \"M\""), std::string::npos) << named.out;
  EXPECT_NE(named.out.find("\"path\": \"src/edited.txt\""), std::string::npos) << named.out;
  const auto unknown = run_bkp({"diff", "-d", dest.string(), "2020-01-01_00:00:00"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(count_lines(unknown.err), 1) << unknown.err;
  EXPECT_NE(unknown.err.find("2020-01-01_00:00:00"), std::string::npos) << unknown.err;
}

TEST(Pin, PinsAndUnpinsOnlyCompleteSnapshots) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "a", "a\n");
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  const std::string name = bkp::Destination::scan(dest).newest_complete()->name;
  auto r = run_bkp({"pin", "-d", dest.string(), name});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(bkp::Destination::scan(dest).newest_complete()->pinned);
  EXPECT_NE(run_bkp({"list", "-d", dest.string(), "--no-sizes"}).out.find("complete*"), std::string::npos);
  r = run_bkp({"unpin", "-d", dest.string(), name});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(bkp::Destination::scan(dest).newest_complete()->pinned);
  // What an interrupted run left is no complete snapshot: refused, nothing changed.
  write_file(dest / "0/2030-01-01_00:00:00/src/a", "a\n");
  { std::ofstream(dest / "0/cfg.ini", std::ios::app) << "[ACTIVE]\ntimestamp = 2030-01-01_00:00:00\nstatus = partial\n\n"; }
  const std::string before = destination_state(dest);
  for (const char* bad : {"2030-01-01_00:00:00", "2020-01-01_00:00:00", "nonsense"}) {
    r = run_bkp({"pin", "-d", dest.string(), bad});
    EXPECT_EQ(r.status, 2) << bad << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
  }
  EXPECT_EQ(destination_state(dest), before);
}
