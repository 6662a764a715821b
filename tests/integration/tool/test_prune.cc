// bkp prune (issue 9): calendar retention over every series, explained, crash-safe, under
// the lock, with backup runs, and on destinations of the original bkp.py.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

std::string section(const std::string& name, const std::string& extra = "") {
  return "[" + name + "]\ntimestamp = " + name + "\nstatus = complete\nsources = [\"/src\"]\nbackup = /old/0\ncwd = /\n" +
         extra + "\n";
}

// A destination as bkp (or the original bkp.py) leaves it: each series a list of snapshot
// names, each snapshot a hard-link copy of the one before with one file rewritten.
struct HandMade {
  fs::path dest;
  void series(const std::string& folder, const std::vector<std::string>& names, const std::string& extra_journal = "") {
    std::string journal;
    fs::path prev;
    for (const std::string& name : names) {
      const fs::path snap = dest / folder / name;
      if (prev.empty()) {
        for (int i = 0; i < 20; ++i) write_file(snap / "src" / ("f" + std::to_string(i)), std::string(1000, 'a' + i));
      } else {
        fs::create_directories(snap.parent_path());
        ASSERT_EQ(run({"cp", "-al", prev.string(), snap.string()}).status, 0);
        fs::remove(snap / "src/f0");
        write_file(snap / "src/f0", "changed in " + name + "\n");
      }
      journal += section(name);
      prev = snap;
    }
    write_file(dest / folder / "cfg.ini", journal + extra_journal);
  }
};

std::vector<std::string> complete_names(const fs::path& dest) {
  const auto store = bkp::Destination::scan(dest);
  std::vector<std::string> out;
  for (const auto* s : store.complete_snapshots()) out.push_back(s->name);
  return out;
}

class Prune : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three days with two runs each in an older series, then a new series.
    made.series("2026-11-03_18:00:00", {"2026-11-01_08:00:00", "2026-11-01_20:00:00", "2026-11-02_08:00:00",
                                        "2026-11-02_20:00:00", "2026-11-03_08:00:00", "2026-11-03_18:00:00"});
    made.series("0", {"2026-11-10_08:00:00", "2026-11-11_08:00:00", "2026-11-11_20:00:00"});
  }
  TempDir tmp;
  fs::path dest = tmp / "dest";
  HandMade made{dest};
};

}  // namespace

TEST_F(Prune, DryRunExplainsEverySnapshotAndChangesNothing) {
  const std::string before = destination_state(dest);
  const auto r = run_bkp({"prune", "-d", dest.string(), "--keep-daily", "3", "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "keep   2026-11-11_20:00:00  daily #1, newest\n"
            "remove 2026-11-11_08:00:00\n"
            "keep   2026-11-10_08:00:00  daily #2\n"
            "keep   2026-11-03_18:00:00  daily #3\n"
            "remove 2026-11-03_08:00:00\n"
            "remove 2026-11-02_20:00:00\n"
            "remove 2026-11-02_08:00:00\n"
            "remove 2026-11-01_20:00:00\n"
            "remove 2026-11-01_08:00:00\n");
  EXPECT_EQ(destination_state(dest), before);
  const auto j = run_bkp({"prune", "-d", dest.string(), "--keep-daily", "3", "--keep-last", "1", "--dry-run", "--json"});
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_NE(j.out.find("\"rule\": \"daily\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"text\": \"last #1\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"keep\": false"), std::string::npos) << j.out;
  EXPECT_EQ(destination_state(dest), before);
}

TEST_F(Prune, RemovesWhatNoRuleKeepsAndKeepsTheRestWhole) {
  const auto store = bkp::Destination::scan(dest);
  std::map<std::string, std::string> kept_state;
  for (const char* name : {"2026-11-11_20:00:00", "2026-11-10_08:00:00", "2026-11-03_18:00:00", "2026-11-02_20:00:00"})
    kept_state[name] = manifest(store.find_snapshot(name)->path);
  const auto pin = run_bkp({"pin", "-d", dest.string(), "2026-11-02_20:00:00"});
  ASSERT_EQ(pin.status, 0) << pin.err;
  const auto r = run_bkp({"prune", "-d", dest.string(), "--keep-daily", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(complete_names(dest), (std::vector<std::string>{"2026-11-02_20:00:00", "2026-11-03_18:00:00",
                                                            "2026-11-10_08:00:00", "2026-11-11_20:00:00"}));
  const auto after = bkp::Destination::scan(dest);
  for (const auto& [name, state] : kept_state) {
    const auto* snap = after.find_snapshot(name);
    ASSERT_NE(snap, nullptr) << name;
    // Link counts drop as other snapshots go; content, metadata and groups stay.
    EXPECT_EQ(manifest(snap->path, false), [&] {
      std::string m = state;
      for (size_t at; (at = m.find(" nlink=")) != std::string::npos;) m.erase(at, m.find_first_of(" \n", at + 1) - at);
      return m;
    }()) << name;
  }
  for (const auto& series : after.series) {
    EXPECT_TRUE(series.faults().empty()) << series.folder;
    for (const auto& e : fs::directory_iterator(series.path))
      EXPECT_FALSE(e.path().filename().string().starts_with(".bkp-")) << e.path();
  }
  EXPECT_EQ(journal(dest, "2026-11-03_18:00:00").find("2026-11-01_08:00:00"), std::string::npos) << "section left behind";
}

TEST_F(Prune, AnOlderSeriesWithNothingKeptGoesWithItsJournalAndPartialsOfTheCurrentStay) {
  write_file(dest / "0/2026-11-12_08:00:00/src/f0", "interrupted\n");
  { std::ofstream(dest / "0/cfg.ini", std::ios::app) << "[ACTIVE]\ntimestamp = 2026-11-12_08:00:00\nstatus = partial\n\n"; }
  const auto r = run_bkp({"prune", "-d", dest.string(), "--keep-last", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dest / "2026-11-03_18:00:00")) << "the emptied series folder was left";
  EXPECT_EQ(complete_names(dest), (std::vector<std::string>{"2026-11-11_08:00:00", "2026-11-11_20:00:00"}));
  EXPECT_TRUE(fs::exists(dest / "0/2026-11-12_08:00:00/src/f0")) << "the partial snapshot was removed";
  EXPECT_NE(journal(dest).find("[ACTIVE]"), std::string::npos);
  for (const auto& e : fs::directory_iterator(dest)) EXPECT_FALSE(e.path().filename().string().starts_with(".bkp-removing"));
}

TEST_F(Prune, RefusalsAreUsageErrorsOrNameTheDestinationAndChangeNothing) {
  const std::string before = destination_state(dest);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"prune", "-d", dest.string()},
           {"prune", "-d", dest.string(), "--keep-daily", "-1"},
           {"prune", "-d", dest.string(), "--keep-daily", "seven"},
           {"prune", "-d", dest.string(), "--keep-within", "1w"},
           {"prune", "-d", dest.string(), "--keep-within", "-3d"},
           {"prune", "-d", dest.string(), "--keep-last", "2", "2020-01-01_00:00:00"}}) {
    const auto r = run_bkp(args);
    EXPECT_EQ(r.status, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  const auto missing = run_bkp({"prune", "-d", (tmp / "nowhere").string(), "--keep-last", "1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
  EXPECT_NE(missing.err.find((tmp / "nowhere").string()), std::string::npos) << missing.err;
  EXPECT_EQ(destination_state(dest), before);
}

TEST_F(Prune, NamedSnapshotsGoButNeverAPinnedOneOrTheNewest) {
  auto r = run_bkp({"prune", "-d", dest.string(), "2026-11-02_08:00:00"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto names = complete_names(dest);
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(std::count(names.begin(), names.end(), "2026-11-02_08:00:00"), 0);
  ASSERT_EQ(run_bkp({"pin", "-d", dest.string(), "2026-11-01_08:00:00"}).status, 0);
  const std::string before = destination_state(dest);
  for (const char* name : {"2026-11-01_08:00:00", "2026-11-11_20:00:00"}) {
    r = run_bkp({"prune", "-d", dest.string(), name});
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
  }
  EXPECT_EQ(destination_state(dest), before);
}

TEST(PruneOriginal, DestinationsOfTheOriginalArePrunedAndContinued) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  HandMade made{dest};
  made.series("0", {"2026-10-01_02:00:00", "2026-10-02_02:00:00", "2026-10-03_02:00:00"},
              "[2026-10-04_02:00:00]\ntimestamp = 2026-10-04_02:00:00\nstatus = failed\nsources = []\nbackup = /x\n\n");
  fs::create_directories(dest / "0/2026-10-04_02:00:00/src");
  ASSERT_EQ(run({"cp", "-a", (dest / "0/2026-10-03_02:00:00/src").string(), src.string()}).status, 0);
  const auto r = run_bkp({"prune", "-d", dest.string(), "--keep-last", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(complete_names(dest), std::vector<std::string>{"2026-10-03_02:00:00"});
  EXPECT_TRUE(fs::is_directory(dest / "0/2026-10-04_02:00:00")) << "the failed run's record was removed";
  const auto run_after = run_bkp({"-i", "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(run_after.status, 0) << run_after.err;
  const auto store = bkp::Destination::scan(dest);
  EXPECT_EQ(store.newest_complete()->journal.at("previous"), "2026-10-03_02:00:00");
  EXPECT_EQ(inode_of(store.newest_complete()->path / "src/f5"), inode_of(dest / "0/2026-10-03_02:00:00/src/f5"));
}

TEST(PruneWithBackup, KeepRulesPruneAfterASuccessfulRunOnly) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "a", "a\n");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run_bkp({"-q", "-i", "-s", src.string(), "-d", dest.string()}).status, 0);
  ASSERT_EQ(bkp::Destination::scan(dest).complete_count(), 3u);
  // A failed run never prunes.
  auto r = run_bkp({"-i", "-s", src.string(), "-d", dest.string(), "--keep-last", "1"},
                   {.env = {{"BKP_RSYNC", fake_rsync()}, {"FAKE_RSYNC_EXIT", "12"}}});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 3u);
  // A successful one does, from the command line and from a --config file.
  r = run_bkp({"-i", "-s", src.string(), "-d", dest.string(), "--keep-last", "2", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 2u);
  EXPECT_NE(r.out.find("\"pruned\""), std::string::npos) << r.out;
  write_file(tmp / "job.conf", "sources = " + src.string() + "\ndestination = " + dest.string() +
                                   "\nincremental = true\nkeep-last = 1\n");
  r = run_bkp({"--config", (tmp / "job.conf").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 1u);
  EXPECT_TRUE(bkp::Destination::scan(dest).current()->partials().empty());
  // A malformed rule is a usage error before anything runs.
  r = run_bkp({"-i", "-s", src.string(), "-d", dest.string(), "--keep-daily", "x"});
  EXPECT_EQ(r.status, 2) << r.err;
}

TEST(PruneLock, APruneWhileABackupRunsExitsAtOnceNamingIt) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "a", "a\n");
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  const pid_t backup = ::fork();
  if (backup == 0) {
    ::setenv("BKP_RSYNC", fake_rsync().c_str(), 1);
    ::setenv("FAKE_RSYNC_SLEEP", "3", 1);
    ::setenv("FAKE_RSYNC_STARTED", (tmp / "started").c_str(), 1);
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  ASSERT_TRUE(eventually([&] { return fs::exists(tmp / "started"); }));
  const auto r = run_bkp({"prune", "-d", dest.string(), "--keep-last", "1"});
  EXPECT_EQ(::waitpid(backup, nullptr, WNOHANG), 0) << "prune waited for the backup";
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("pid " + std::to_string(backup)), std::string::npos) << r.err;
  EXPECT_EQ(wait_for(backup), 0);
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 2u);
}

TEST(PruneKill, KillNineAtRandomMomentsNeverShowsAHalfDeletedSnapshotAsComplete) {
  std::mt19937 random(4242);  // the same moments on every run of the test
  for (int round = 0; round < 6; ++round) {
    TempDir tmp;
    const fs::path dest = tmp / "dest";
    HandMade made{dest};
    std::vector<std::string> names;
    for (int d = 1; d <= 8; ++d) names.push_back("2026-10-0" + std::to_string(d) + "_02:00:00");
    made.series("0", names);
    for (int i = 0; i < 2000; ++i) write_file(dest / "0" / names[0] / "src/many" / std::to_string(i), "x");
    std::map<std::string, std::string> state;
    {
      const auto store = bkp::Destination::scan(dest);
      for (const auto* s : store.complete_snapshots()) state[s->name] = manifest(s->path, false);
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string b = bkp_binary();
      ::execl(b.c_str(), b.c_str(), "prune", "-q", "-d", dest.c_str(), "--keep-last", "2", nullptr);
      ::_exit(127);
    }
    // Not a synchronisation: the moment of the kill is what is being varied. It cannot race:
    // whether a prune has not begun, is halfway or is done, the checks below must hold.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 60000));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    const auto store = bkp::Destination::scan(dest);
    for (const auto* s : store.complete_snapshots()) {
      auto m = state.at(s->name);
      auto now = manifest(s->path, false);
      const auto strip = [](std::string x) {
        for (size_t at; (at = x.find(" nlink=")) != std::string::npos;) x.erase(at, x.find_first_of(" \n", at + 1) - at);
        return x;
      };
      EXPECT_EQ(strip(now), strip(m)) << s->name << " is called complete but is not whole (round " << round << ")";
    }
    const auto again = run_bkp({"prune", "-d", dest.string(), "--keep-last", "2"});
    ASSERT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(complete_names(dest), (std::vector<std::string>{names[6], names[7]}));
    for (const auto& e : fs::directory_iterator(dest / "0"))
      EXPECT_FALSE(e.path().filename().string().starts_with(".bkp-removing")) << "a killed prune's leftover stayed";
  }
}
