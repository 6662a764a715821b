// lib/health: what `bkp status` calls healthy, as tables of destinations built in memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "health.h"
#include "lock.h"
#include "timestamp.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

constexpr const char* kMonday = "2026-11-23_02:00:00";
constexpr const char* kTuesday = "2026-11-24_02:00:00";
constexpr const char* kWednesday = "2026-11-25_02:00:00";

Snapshot snapshot(const std::string& name, const std::string& state, const std::string& series = "0") {
  Snapshot s{name, series, fs::path("/dest") / series / name, *parse_timestamp(name)};
  s.complete = state == "complete";
  s.partial = state == "partial";
  s.failed = state == "failed";
  if (s.complete) s.journal = {{"status", "complete"}, {"finished", name}, {"rsync_exit", "0"}};
  if (s.failed) s.journal = {{"status", "failed"}};
  return s;
}

Destination destination(std::vector<Snapshot> current, std::vector<Snapshot> older = {}) {
  Destination d{"/dest", {}};
  if (!older.empty()) d.series.push_back(Series{older.back().name, "/dest/" + older.back().name, older});
  d.series.push_back(Series{"0", "/dest/0", std::move(current)});
  d.series.back().has_journal = true;
  return d;
}

ActiveRun active(const std::string& name, const std::string& status, std::map<std::string, std::string> more = {}) {
  more["timestamp"] = name;
  more["status"] = status;
  return {"0", more};
}

HealthLimits at(const char* now, std::optional<std::string> max_age = std::nullopt) {
  HealthLimits l;
  l.now = *parse_timestamp(now);
  if (max_age) l.max_age = parse_calendar_duration(*max_age, "--max-age");
  return l;
}

}  // namespace

TEST(Health, AFreshDestinationHasNoCompleteSnapshot) {
  const Destination empty{"/dest", {}};
  const Health h = assess_health(empty, {}, at(kMonday));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.problem, "no complete snapshot in /dest");
  EXPECT_EQ(h.newest, nullptr);
  EXPECT_FALSE(h.last_run);
}

TEST(Health, ACompleteLastRunIsHealthyAndItsAgeCountsFromTheName) {
  const auto dest = destination({snapshot(kMonday, "complete"), snapshot(kTuesday, "complete")});
  const Health h = assess_health(dest, {}, at("2026-11-24_08:00:00"));
  EXPECT_TRUE(h.healthy) << h.problem;
  ASSERT_NE(h.newest, nullptr);
  EXPECT_EQ(h.newest->name, kTuesday);
  EXPECT_EQ(h.age, 6 * 3600);
  EXPECT_EQ(h.complete_snapshots, 2u);
  ASSERT_TRUE(h.last_run);
  EXPECT_EQ(h.last_run->outcome, RunOutcome::complete);
  EXPECT_EQ(h.last_run->snapshot, kTuesday);
  EXPECT_EQ(h.last_run->finished, kTuesday);
  EXPECT_TRUE(h.newer_partials.empty());
}

TEST(Health, MaxAgeMakesAnOldSnapshotUnhealthy) {
  const auto dest = destination({snapshot(kMonday, "complete")});
  EXPECT_TRUE(assess_health(dest, {}, at("2026-11-24_13:59:59", "36h")).healthy);
  EXPECT_TRUE(assess_health(dest, {}, at("2026-11-24_14:00:00", "36h")).healthy);  // exactly 36h: not older
  const Health stale = assess_health(dest, {}, at("2026-11-24_14:00:01", "36h"));
  EXPECT_FALSE(stale.healthy);
  EXPECT_EQ(stale.problem, std::string("the newest complete snapshot ") + kMonday +
                               " is 1d 12h old, older than --max-age 36h");
  EXPECT_FALSE(assess_health(dest, {}, at(kWednesday, "1d")).healthy);
  EXPECT_TRUE(assess_health(dest, {}, at(kWednesday, "2d")).healthy);
  EXPECT_TRUE(assess_health(dest, {}, at("2027-11-25_02:00:00")).healthy) << "no limit: any age is fine";
}

TEST(Health, AFailedLastRunIsUnhealthyWithItsReason) {
  const auto dest = destination({snapshot(kMonday, "complete"), snapshot(kTuesday, "partial")});
  const Health h = assess_health(
      dest, {active(kTuesday, "failed", {{"reason", "rsync failed with exit status 11"}, {"rsync_exit", "11"}})}, at(kTuesday));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.problem, std::string("the last run (snapshot ") + kTuesday +
                           ") failed: rsync failed with exit status 11; the snapshot is left partial");
  ASSERT_TRUE(h.last_run);
  EXPECT_EQ(h.last_run->outcome, RunOutcome::failed);
  EXPECT_EQ(h.last_run->rsync_exit, 11);
  EXPECT_EQ(h.newest->name, kMonday);
  ASSERT_EQ(h.newer_partials.size(), 1u);
  EXPECT_EQ(h.newer_partials[0]->name, kTuesday);
}

TEST(Health, APartialRunIsInterruptedUnlessALiveProcessHoldsTheLock) {
  const auto dest = destination({snapshot(kMonday, "complete"), snapshot(kTuesday, "partial")});
  const std::vector<ActiveRun> runs = {active(kTuesday, "partial")};
  const Health killed = assess_health(dest, runs, at(kTuesday));
  EXPECT_FALSE(killed.healthy);
  EXPECT_EQ(killed.last_run->outcome, RunOutcome::interrupted);
  EXPECT_NE(killed.problem.find("was interrupted"), std::string::npos) << killed.problem;

  HealthLimits locked = at(kTuesday);
  locked.lock_holder = 1234;
  const Health going = assess_health(dest, runs, locked);
  EXPECT_TRUE(going.healthy) << going.problem;
  EXPECT_EQ(going.last_run->outcome, RunOutcome::running);
  // A stuck run shows as the newest complete snapshot growing old.
  locked = at("2026-11-30_02:00:00", "36h");
  locked.lock_holder = 1234;
  EXPECT_FALSE(assess_health(dest, runs, locked).healthy);
}

TEST(Health, ANewerCompleteRunSupersedesAnOldFailure) {
  // A failed run recorded in an older series, then a complete one in the new series.
  auto dest = destination({snapshot(kWednesday, "complete")}, {snapshot(kMonday, "complete", kMonday)});
  ActiveRun old = active(kTuesday, "failed", {{"reason", "disk full"}});
  old.series = kMonday;
  const Health h = assess_health(dest, {old}, at(kWednesday));
  EXPECT_TRUE(h.healthy) << h.problem;
  EXPECT_EQ(h.last_run->snapshot, kWednesday);
}

TEST(Health, TheOriginalsFailedSectionIsAFailedRun) {
  const auto dest = destination({snapshot(kMonday, "complete"), snapshot(kTuesday, "failed")});
  const Health h = assess_health(dest, {}, at(kTuesday));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.last_run->outcome, RunOutcome::failed);
  EXPECT_NE(h.problem.find("status = failed"), std::string::npos) << h.problem;
  ASSERT_EQ(h.newer_partials.size(), 1u);
}

TEST(Health, AnUnreadableFilesWarningIsStillHealthy) {
  auto snap = snapshot(kMonday, "complete");
  snap.journal["rsync_exit"] = "23";
  snap.journal["warning"] = "some files could not be read; see the log of this run";
  const Health h = assess_health(destination({snap}), {}, at(kMonday));
  EXPECT_TRUE(h.healthy);
  EXPECT_EQ(h.last_run->rsync_exit, 23);
  EXPECT_EQ(h.last_run->reason, "some files could not be read; see the log of this run");
}

TEST(Health, FaultsThatMakeTheNextRunRefuseAreUnhealthy) {
  auto dest = destination({snapshot(kMonday, "complete"), snapshot(kTuesday, "unknown")});
  const Health h = assess_health(dest, {}, at(kTuesday));
  EXPECT_FALSE(h.healthy);
  EXPECT_NE(h.problem.find("journal does not account for this folder"), std::string::npos) << h.problem;
  EXPECT_NE(h.problem.find("see bkp repair"), std::string::npos) << h.problem;
  // In an older series they are only warnings (runs only warn about them too).
  dest = destination({snapshot(kWednesday, "complete")}, {snapshot(kMonday, "complete"), snapshot(kTuesday, "unknown")});
  const Health older = assess_health(dest, {}, at(kWednesday));
  EXPECT_TRUE(older.healthy) << older.problem;
  EXPECT_EQ(older.warnings.size(), 1u);
}

TEST(Health, NoCompleteSnapshotAndAFailedRunSaysBoth) {
  const auto dest = destination({snapshot(kMonday, "partial")});
  const Health h = assess_health(dest, {active(kMonday, "failed", {{"reason", "writing the snapshot failed"}})}, at(kMonday));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.problem.rfind("no complete snapshot, and the last run", 0), 0u) << h.problem;
}

TEST(Health, ActiveRunsAreReadFromEveryJournal) {
  const fs::path root = fs::temp_directory_path() / ("bkp-health-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "0" / kMonday);
  fs::create_directories(root / "0" / kTuesday);
  std::ofstream(root / "0/cfg.ini") << "[" << kMonday << "]\ntimestamp = " << kMonday << "\nstatus = complete\n\n"
                                    << "[ACTIVE]\ntimestamp = " << kTuesday << "\nstatus = failed\nreason = disk full\n";
  const Destination dest = Destination::scan(root);
  const auto runs = read_active_runs(dest);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].series, "0");
  EXPECT_EQ(runs[0].keys.at("reason"), "disk full");
  EXPECT_EQ(assess_health(dest, runs, at(kTuesday)).last_run->reason, "disk full");
  fs::remove_all(root);
}

TEST(LockHolder, NamesTheLiveHolderAndCreatesNothing) {
  const fs::path dir = fs::temp_directory_path() / ("bkp-holder-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_FALSE(lock_holder(dir));
  EXPECT_FALSE(fs::exists(dir / kLockFile)) << "asking created the lock file";
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t holder = fork();
  if (holder == 0) {
    DestinationLock held(dir);
    char c = 1;
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(lock_holder(dir), holder);
  (void)!write(done[1], &c, 1);
  waitpid(holder, nullptr, 0);
  EXPECT_FALSE(lock_holder(dir)) << "the lock file is left, its holder gone";
  {
    DestinationLock mine(dir);
    EXPECT_EQ(lock_holder(dir), getpid());
  }
  fs::remove_all(dir);
}
