#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "timeline.h"

namespace bkpfs {
namespace {

namespace fs = std::filesystem;

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bkpfs-watch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dest_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dest_); }

  // Adds a complete snapshot to `series` (folder + journal section, journal replaced).
  void add(const std::string& series, const std::string& name, const std::string& extra = "") {
    fs::create_directories(dest_ / series / name);
    journal_[series] += "[" + name + "]\ntimestamp = " + name + "\nstatus = complete\nsources = [\"/s\"]\n" + extra + "\n";
    write_journal(series);
  }
  void write_journal(const std::string& series) {
    std::ofstream(dest_ / series / "cfg.ini.tmp") << journal_[series];
    fs::rename(dest_ / series / "cfg.ini.tmp", dest_ / series / "cfg.ini");
  }

  fs::path dest_;
  std::map<std::string, std::string> journal_;
};

TEST_F(WatcherTest, NoticesNewSnapshotsAndIgnoresInvisibleChanges) {
  add("0", "2026-11-20_02:00:00");
  TimelineWatcher w(dest_);
  EXPECT_EQ(w.current()->snapshot_count(), 1u);
  EXPECT_FALSE(w.refresh());  // nothing changed

  add("0", "2026-11-21_02:00:00");
  EXPECT_TRUE(w.refresh());
  EXPECT_EQ(w.current()->snapshot_count(), 2u);
  EXPECT_FALSE(w.refresh());

  journal_["0"] += "[ACTIVE]\ntimestamp = 2026-11-22_02:00:00\nstatus = partial\n\n";
  write_journal("0");
  fs::create_directories(dest_ / "0" / "2026-11-22_02:00:00");
  EXPECT_FALSE(w.refresh());  // a partial run shows nothing new
  EXPECT_EQ(w.current()->snapshot_count(), 2u);
}

TEST_F(WatcherTest, NoticesRenamedSeriesAndRemovals) {
  add("0", "2026-11-20_02:00:00");
  add("0", "2026-11-21_02:00:00");
  TimelineWatcher w(dest_);
  // A full run renames 0/ to its newest snapshot and starts a new 0/.
  fs::rename(dest_ / "0", dest_ / "2026-11-21_02:00:00");
  journal_["2026-11-21_02:00:00"] = journal_["0"];
  journal_["0"].clear();
  add("0", "2026-11-22_02:00:00");
  EXPECT_TRUE(w.refresh());
  EXPECT_EQ(w.current()->series_count(), 2u);
  EXPECT_EQ(w.current()->series_of("2026-11-20_02:00:00"), "2026-11-21_02:00:00");

  // A prune in the older series: folder removed (its journal section too).
  fs::remove_all(dest_ / "2026-11-21_02:00:00" / "2026-11-20_02:00:00");
  EXPECT_TRUE(w.refresh());
  EXPECT_FALSE(w.current()->series_of("2026-11-20_02:00:00"));
}

TEST_F(WatcherTest, BackgroundThreadReportsChanges) {
  add("0", "2026-11-20_02:00:00");
  TimelineWatcher w(dest_);
  std::mutex m;
  std::condition_variable cv;
  std::size_t seen = 0;
  w.start(std::chrono::milliseconds(20), [&](const Timeline&, const Timeline& after) {
    std::lock_guard lock(m);
    seen = after.snapshot_count();
    cv.notify_all();
  });
  add("0", "2026-11-21_02:00:00");
  std::unique_lock lock(m);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen == 2; }));
  lock.unlock();
  w.stop();
}

}  // namespace
}  // namespace bkpfs
