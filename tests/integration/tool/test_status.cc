// `bkp status`: the health check monitoring runs, on destinations made by the built bkp
// (the fake rsync only to force a failure and to hold a run inside rsync) and by the original
// bkp.py.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include "harness.h"
#include "store.h"
#include "timestamp.h"

using namespace bkptest;
using nlohmann::json;

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

class Status : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "a.txt", "a\n");
    write_file(src / "sub/b.txt", "b\n");
  }
  RunResult backup(std::vector<std::string> extra, std::map<std::string, std::string> fake = {}) {
    std::vector<std::string> args = {"-q", "-s", src.string(), "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunOptions options;
    if (!fake.empty()) {
      options.env = fake;
      options.env["BKP_RSYNC"] = fake_rsync();
    }
    return run_bkp(args, options);
  }
  RunResult status(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"status", "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bkp(args);
  }
  json status_json(std::vector<std::string> extra = {}) {
    extra.push_back("--json");
    const auto r = status(extra);
    return json::parse(r.out);
  }
  // Healthy: exit 0, an OK summary first, nothing on stderr; unhealthy: exit 1, a WARNING
  // summary and one line on stderr that says why (the same words as the summary).
  void expect_healthy(const RunResult& r) {
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(first_line(r.out).rfind("BKP OK - " + dest.string() + ": ", 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");
  }
  void expect_unhealthy(const RunResult& r, const std::string& why) {
    EXPECT_EQ(r.status, 1) << r.out << r.err;
    EXPECT_EQ(first_line(r.out).rfind("BKP WARNING - " + dest.string() + ": ", 0), 0u) << r.out;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_NE(first_line(r.out).find(why), std::string::npos) << r.out;
  }

  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
};

// A destination in the original bkp.py's format with one complete snapshot taken `ago`
// seconds before now.
void write_original_destination_aged(const fs::path& dest, std::time_t ago) {
  const std::string name = bkp::format_timestamp(std::time(nullptr) - ago);
  write_file(dest / "0" / name / "src/file", "x\n");
  write_file(dest / "0/cfg.ini", "[" + name + "]\ntimestamp = " + name +
                                     "\nstatus = complete\nsources = [\"/src\"]\nbackup = /media/disk/0\ncwd = /root\n\n");
}

}  // namespace

TEST_F(Status, FreshDestinationIsUnhealthyAndLeftAlone) {
  expect_unhealthy(status(), "destination " + dest.string() + ": does not exist");
  EXPECT_FALSE(fs::exists(dest));
  fs::create_directories(dest);
  expect_unhealthy(status(), "no complete snapshot in " + dest.string());
  EXPECT_TRUE(fs::is_empty(dest)) << "status wrote into DEST";
  const json j = status_json();
  EXPECT_EQ(j["healthy"], false);
  EXPECT_EQ(j["newest_complete"], nullptr);
  EXPECT_EQ(j["last_run"], nullptr);
  EXPECT_EQ(j["complete_snapshots"], 0);
}

TEST_F(Status, HealthyDestinationAfterRealRuns) {
  ASSERT_EQ(backup({}).status, 0);
  ASSERT_EQ(backup({"-i"}).status, 0);
  const auto store = bkp::Destination::scan(dest);
  const std::string newest = store.newest_complete()->name;
  const std::string before = destination_state(dest);

  auto r = status();
  expect_healthy(r);
  EXPECT_NE(first_line(r.out).find("newest snapshot " + newest + " is "), std::string::npos) << r.out;
  EXPECT_NE(first_line(r.out).find("last run complete | age="), std::string::npos) << r.out;
  EXPECT_NE(first_line(r.out).find(" snapshots=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("complete snapshots: 2\n"), std::string::npos) << r.out;
  expect_healthy(status({"--max-age", "36h"}));
  expect_healthy(status({"--max-age", "2d"}));

  const json j = status_json({"--max-age", "36h"});
  EXPECT_EQ(j["healthy"], true);
  EXPECT_EQ(j["problem"], nullptr);
  EXPECT_EQ(j["destination"], dest.string());
  EXPECT_EQ(j["complete_snapshots"], 2);
  EXPECT_EQ(j["newest_complete"]["name"], newest);
  EXPECT_EQ(j["newest_complete"]["series"], "0");
  EXPECT_GE(j["newest_complete"]["age_seconds"].get<long>(), 0);
  EXPECT_EQ(j["last_run"]["status"], "complete");
  EXPECT_EQ(j["last_run"]["snapshot"], newest);
  EXPECT_EQ(j["last_run"]["rsync_exit"], 0);
  EXPECT_EQ(j["newer_partials"], json::array());
  EXPECT_EQ(j["max_age"], "36h");
  EXPECT_EQ(first_line(j["summary"].get<std::string>()).rfind("BKP OK - ", 0), 0u);
  EXPECT_EQ(destination_state(dest), before) << "status changed DEST";
}

TEST_F(Status, StaleDestinationIsUnhealthyPastMaxAge) {
  write_original_destination_aged(dest, 3 * 86400);
  expect_healthy(status());  // no limit given
  expect_unhealthy(status({"--max-age", "36h"}), "older than --max-age 36h");
  expect_unhealthy(status({"--max-age", "2d"}), "older than --max-age 2d");
  expect_healthy(status({"--max-age", "4d"}));
  expect_healthy(status({"--max-age", "1m"}));
  const auto r = status({"--max-age", "36h"});
  EXPECT_NE(first_line(r.out).find(" is 3d old, "), std::string::npos) << r.out;
  EXPECT_NE(first_line(r.out).find("age=259"), std::string::npos) << "perfdata age in seconds: " << r.out;
  EXPECT_NE(first_line(r.out).find("s;129600 "), std::string::npos) << "perfdata warning threshold: " << r.out;
}

TEST_F(Status, FailedRunIsUnhealthyAndARefusedRunChangesNothing) {
  ASSERT_EQ(backup({}).status, 0);
  ASSERT_EQ(backup({"-i"}, {{"FAKE_RSYNC_EXIT", "11"}}).status, 1);
  const auto store = bkp::Destination::scan(dest);
  const std::string partial = store.current()->partials().at(0)->name;

  const auto failed = status({"--max-age", "36h"});
  expect_unhealthy(failed, "the last run (snapshot " + partial + ") failed: rsync failed with exit status 11");
  EXPECT_NE(failed.out.find("partial snapshots:  " + partial + " (series 0)"), std::string::npos) << failed.out;
  json j = status_json();
  EXPECT_EQ(j["healthy"], false);
  EXPECT_EQ(j["last_run"]["status"], "failed");
  EXPECT_EQ(j["last_run"]["rsync_exit"], 11);
  EXPECT_EQ(j["last_run"]["snapshot"], partial);
  ASSERT_EQ(j["newer_partials"].size(), 1u);
  EXPECT_EQ(j["newer_partials"][0]["name"], partial);
  EXPECT_EQ(j["newest_complete"]["name"], store.newest_complete()->name);

  // A refused run writes nothing: the status says what it said.
  fs::rename(src, tmp / "src-away");
  ASSERT_EQ(backup({"-i"}).status, 1);
  fs::rename(tmp / "src-away", src);
  const auto again = status({"--max-age", "36h"});
  EXPECT_EQ(again.status, failed.status);
  EXPECT_EQ(again.err, failed.err);
  EXPECT_EQ(status_json()["last_run"], j["last_run"]);

  // The next good run makes it healthy again.
  ASSERT_EQ(backup({"-i"}).status, 0);
  expect_healthy(status({"--max-age", "36h"}));
}

TEST_F(Status, ARunInProgressIsHealthyAndAKilledOneIsNot) {
  ASSERT_EQ(backup({}).status, 0);
  const fs::path started = tmp / "rsync-started";
  // A run held inside rsync; in its own process group, so that it dies whole.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::setenv("BKP_RSYNC", fake_rsync().c_str(), 1);
    ::setenv("FAKE_RSYNC_SLEEP", "600", 1);
    ::setenv("FAKE_RSYNC_STARTED", started.c_str(), 1);
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const bool inside_rsync = eventually([&] { return fs::exists(started); });
  const auto going = status({"--max-age", "36h"});
  const json j = status_json();
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(inside_rsync) << "the run never reached rsync";

  expect_healthy(going);
  EXPECT_NE(first_line(going.out).find("a run is in progress"), std::string::npos) << going.out;
  EXPECT_EQ(j["last_run"]["status"], "running");
  EXPECT_EQ(j["last_run"]["pid"], pid);

  const auto killed = status();
  expect_unhealthy(killed, "was interrupted before it completed; the snapshot is left partial");
  EXPECT_EQ(status_json()["last_run"]["status"], "interrupted");
}

TEST_F(Status, OriginalDestinations) {
  // As the original left it: an older series, a complete run, a failed one (its own
  // section says so) and an interrupted one ([ACTIVE] status = partial, no lock).
  write_file(dest / "2026-11-12_02:00:00/2026-11-12_02:00:00/src/file", "old\n");
  write_file(dest / "2026-11-12_02:00:00/cfg.ini",
             "[2026-11-12_02:00:00]\ntimestamp = 2026-11-12_02:00:00\nstatus = complete\n"
             "sources = [\"/src\"]\nbackup = /media/old-disk/0\ncwd = /root\n\n");
  write_file(dest / "0/2026-11-19_02:00:00/src/file", "complete\n");
  write_file(dest / "0/2026-11-20_02:00:00/src/file", "failed run\n");
  const std::string complete_only = "[2026-11-19_02:00:00]\ntimestamp = 2026-11-19_02:00:00\nstatus = complete\n"
                                    "sources = [\"/src\"]\nbackup = /media/old-disk/0\ncwd = /root\n\n";
  write_file(dest / "0/cfg.ini", complete_only +
                                     "[2026-11-20_02:00:00]\ntimestamp = 2026-11-20_02:00:00\nstatus = failed\n"
                                     "sources = [\"/src\"]\nbackup = /media/old-disk/0\ncwd = /root\n\n");
  expect_unhealthy(status(), "the last run (snapshot 2026-11-20_02:00:00) failed");

  write_file(dest / "0/2026-11-21_02:00:00/src/fi", "interrupted\n");
  write_file(dest / "0/cfg.ini", read_file(dest / "0/cfg.ini") +
                                     "[ACTIVE]\ntimestamp = 2026-11-21_02:00:00\nstatus = partial\n"
                                     "sources = [\"/src\"]\nbackup = /media/old-disk/0\n\n");
  const std::string before = destination_state(dest);
  expect_unhealthy(status(), "the last run (snapshot 2026-11-21_02:00:00) was interrupted");
  const json j = status_json();
  EXPECT_EQ(j["complete_snapshots"], 2);
  EXPECT_EQ(j["newest_complete"]["name"], "2026-11-19_02:00:00");
  ASSERT_EQ(j["newer_partials"].size(), 2u);
  EXPECT_EQ(j["newer_partials"][0]["status"], "failed");
  EXPECT_EQ(j["newer_partials"][1]["status"], "partial");
  EXPECT_EQ(destination_state(dest), before) << "status changed an original destination";

  // Only complete runs: healthy, however old, until --max-age says otherwise.
  fs::remove_all(dest / "0/2026-11-20_02:00:00");
  fs::remove_all(dest / "0/2026-11-21_02:00:00");
  write_file(dest / "0/cfg.ini", complete_only);
  expect_healthy(status());
  expect_unhealthy(status({"--max-age", "1d"}), "the newest complete snapshot 2026-11-19_02:00:00 is ");
}

TEST_F(Status, AFolderTheJournalDoesNotKnowIsReportedBeforeRunsRefuse) {
  ASSERT_EQ(backup({}).status, 0);
  fs::create_directories(dest / "0/2030-01-01_00:00:00");
  expect_unhealthy(status(), "the next run will refuse: see bkp repair");
}

TEST_F(Status, UsageErrorsExit2) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"status"},
                                                                {"status", "-d", dest.string(), "--max-age", "36"},
                                                                {"status", "-d", dest.string(), "--max-age", "2w"},
                                                                {"status", "-d", dest.string(), "--max-age", "0h"},
                                                                {"status", "-d", dest.string(), "--frobnicate"}}) {
    const auto r = run_bkp(args);
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  EXPECT_NE(run_bkp({"status", "-d", dest.string(), "--max-age", "36"}).err.find("--max-age: '36' is not a duration"),
            std::string::npos);
  const auto help = run_bkp({"status", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--max-age"), std::string::npos) << help.out;
  EXPECT_NE(run_bkp({"--help"}).out.find("  status "), std::string::npos);
}
