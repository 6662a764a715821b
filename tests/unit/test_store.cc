#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

// A destination as the original bkp.py left it: an older series renamed to its newest
// snapshot, a current series with a complete snapshot, an interrupted run ([ACTIVE],
// status = partial) and a folder that never got a section.
class OriginalDestination : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("bkp-store-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    write_series("2026-11-12_02:00:00", {"2026-11-05_02:00:00", "2026-11-12_02:00:00"}, "");
    write_series("0", {"2026-11-19_02:00:00"},
                 "[ACTIVE]\ntimestamp = 2026-11-20_02:00:00\nstatus = partial\n"
                 "sources = [\"/src\"]\nbackup = /elsewhere/0\n\n");
    fs::create_directories(root / "0" / "2026-11-20_02:00:00" / "src");
    fs::create_directories(root / "0" / "2026-11-21_02:00:00");  // no section at all
    fs::create_directories(root / "lost+found");
  }
  void TearDown() override { fs::remove_all(root); }

  void write_series(const std::string& folder, const std::vector<std::string>& snaps, const std::string& extra) {
    fs::create_directories(root / folder);
    std::ofstream ini(root / folder / "cfg.ini");
    for (const auto& s : snaps) {
      fs::create_directories(root / folder / s / "src");
      ini << "[" << s << "]\ntimestamp = " << s << "\nstatus = complete\nsources = [\"/src\"]\n"
          << "backup = /old/place/0\ncwd = /\n\n";
    }
    ini << extra;
  }

  fs::path root;
};

}  // namespace

TEST_F(OriginalDestination, FindsSeriesInOrder) {
  const auto dest = Destination::scan(root);
  ASSERT_EQ(dest.series.size(), 2u);
  EXPECT_EQ(dest.series[0].folder, "2026-11-12_02:00:00");
  EXPECT_EQ(dest.series[1].folder, "0");
  ASSERT_NE(dest.current(), nullptr);
  EXPECT_EQ(dest.current()->path, root / "0");
}

TEST_F(OriginalDestination, OnlyJournalledSnapshotsAreCompleteAndOnlyActiveOnePartial) {
  const auto dest = Destination::scan(root);
  const auto complete = dest.complete_snapshots();
  ASSERT_EQ(complete.size(), 3u);
  EXPECT_EQ(complete[0]->name, "2026-11-05_02:00:00");
  EXPECT_EQ(complete[2]->name, "2026-11-19_02:00:00");
  EXPECT_EQ(dest.newest_complete()->name, "2026-11-19_02:00:00");
  const auto partials = dest.current()->partials();
  ASSERT_EQ(partials.size(), 1u);
  EXPECT_EQ(partials[0]->name, "2026-11-20_02:00:00");
  // A folder without a section is not partial but unknown: never reused or removed.
  const auto unknowns = dest.current()->unknowns();
  ASSERT_EQ(unknowns.size(), 1u);
  EXPECT_EQ(unknowns[0]->name, "2026-11-21_02:00:00");
  EXPECT_EQ(dest.current()->faults().size(), 1u);
  EXPECT_TRUE(dest.series[0].faults().empty());
  EXPECT_EQ(dest.current()->newest_complete()->name, "2026-11-19_02:00:00");
  EXPECT_EQ(dest.series[0].first_complete()->name, "2026-11-05_02:00:00");
}

TEST_F(OriginalDestination, LocatesByFolderNotByBackupKey) {
  const auto dest = Destination::scan(root);
  const auto* snap = dest.find_snapshot("2026-11-05_02:00:00");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->path, root / "2026-11-12_02:00:00" / "2026-11-05_02:00:00");
  EXPECT_EQ(snap->series, "2026-11-12_02:00:00");
  EXPECT_EQ(snap->journal.at("backup"), "/old/place/0");
}

TEST_F(OriginalDestination, NamesTaken) {
  const auto dest = Destination::scan(root);
  EXPECT_TRUE(dest.name_taken("2026-11-21_02:00:00"));
  EXPECT_TRUE(dest.name_taken("2026-11-12_02:00:00"));
  EXPECT_FALSE(dest.name_taken("2026-11-22_02:00:00"));
}

TEST_F(OriginalDestination, RecognisedAsDestination) {
  EXPECT_TRUE(Destination::looks_like_destination(root));
  EXPECT_FALSE(Destination::looks_like_destination(root / "lost+found"));
  EXPECT_FALSE(Destination::looks_like_destination(root / "missing"));
}

TEST(Store, EmptyFolderHasNoSeries) {
  const auto root = fs::temp_directory_path() / ("bkp-empty-" + std::to_string(getpid()));
  fs::create_directories(root);
  const auto dest = Destination::scan(root);
  EXPECT_TRUE(dest.series.empty());
  EXPECT_EQ(dest.current(), nullptr);
  EXPECT_EQ(dest.newest_complete(), nullptr);
  fs::remove_all(root);
}

TEST_F(OriginalDestination, SymlinksNamedLikeSnapshotsAreIgnored) {
  fs::create_directory_symlink(root / "0" / "2026-11-19_02:00:00", root / "0" / "2026-11-23_02:00:00");
  fs::create_directory_symlink(root / "0", root / "2026-11-30_02:00:00");
  const auto dest = Destination::scan(root);
  EXPECT_EQ(dest.find_snapshot("2026-11-23_02:00:00"), nullptr);
  EXPECT_EQ(dest.series.size(), 2u);
}
