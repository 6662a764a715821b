// The virtual tree: latest, by-date, by-series, current; partial snapshots hidden; a
// destination in the original bkp.py layout; a big destination mounts fast and small.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

// Two older series renamed to their newest snapshot's name, and the current one in 0/.
struct ThreeSeries {
  TempDir tmp;
  fs::path dest = tmp / "dest";
  std::vector<std::string> all;  // every complete snapshot
  std::string a1 = snapshot_name(0), a2 = snapshot_name(100);
  std::string b1 = snapshot_name(200), b2 = snapshot_name(300), b3 = snapshot_name(400);
  std::string c1 = snapshot_name(500), c2 = snapshot_name(600);

  ThreeSeries() {
    for (const auto& s : {a1, a2}) add_snapshot(dest, a2, s);
    for (const auto& s : {b1, b2, b3}) add_snapshot(dest, b3, s);
    for (const auto& s : {c1, c2}) add_snapshot(dest, "0", s);
    all = {a1, a2, b1, b2, b3, c1, c2};
  }
};

TEST(Views, RootHoldsTheViews) {
  ThreeSeries d;
  Mount m(d.dest, d.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  auto root = list_dir(m.path());
  std::sort(root.begin(), root.end());
  EXPECT_EQ(root, (std::vector<std::string>{"by-date", "by-series", "changes", "latest", "versions"}));
  EXPECT_EQ(fs::read_symlink(m / "latest"), fs::path("by-date/" + d.c2));
  EXPECT_EQ(read_file(m / "latest/src/file.txt"), "snapshot " + d.c2 + "\n");
  struct stat st {};
  ASSERT_EQ(::lstat((m / "by-date").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0555u);
}

TEST(Views, ByDateIsOneSortedListOfEverySeries) {
  ThreeSeries d;
  Mount m(d.dest, d.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-date"), d.all);  // readdir order itself is sorted
  for (const std::string& s : d.all) EXPECT_EQ(read_file(m / "by-date" / s / "src/file.txt"), "snapshot " + s + "\n");
}

TEST(Views, BySeriesGroupsSnapshotsUnderTheFirstOne) {
  ThreeSeries d;
  Mount m(d.dest, d.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-series"), (std::vector<std::string>{d.a1, d.b1, d.c1, "current"}));
  EXPECT_EQ(list_dir(m / "by-series" / d.a1), (std::vector<std::string>{d.a1, d.a2}));
  EXPECT_EQ(list_dir(m / "by-series" / d.b1), (std::vector<std::string>{d.b1, d.b2, d.b3}));
  EXPECT_EQ(list_dir(m / "by-series" / d.c1), (std::vector<std::string>{d.c1, d.c2}));
  EXPECT_EQ(fs::read_symlink(m / "by-series/current"), fs::path(d.c1));
  EXPECT_EQ(read_file(m / "by-series/current" / d.c2 / "src/file.txt"), "snapshot " + d.c2 + "\n");
  EXPECT_EQ(read_file(m / "by-series" / d.b1 / d.b2 / "src/file.txt"), "snapshot " + d.b2 + "\n");
}

TEST(Views, SnapshotFilesShowTheirRealAttributes) {
  ThreeSeries d;
  const fs::path file = d.dest / "0" / d.c1 / "src/file.txt";
  ::chmod(file.c_str(), 0640);
  ASSERT_EQ(::chown(file.c_str(), 1234, 5678), 0);
  Mount m(d.dest, d.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  struct stat real {}, seen {};
  ASSERT_EQ(::lstat(file.c_str(), &real), 0);
  ASSERT_EQ(::lstat((m / "by-date" / d.c1 / "src/file.txt").c_str(), &seen), 0);
  EXPECT_EQ(seen.st_mode, real.st_mode);
  EXPECT_EQ(seen.st_uid, 1234u);
  EXPECT_EQ(seen.st_gid, 5678u);
  EXPECT_EQ(seen.st_size, real.st_size);
  EXPECT_EQ(seen.st_nlink, real.st_nlink);
  EXPECT_EQ(seen.st_ino, real.st_ino);
  EXPECT_EQ(seen.st_mtim.tv_sec, real.st_mtim.tv_sec);
  EXPECT_EQ(seen.st_mtim.tv_nsec, real.st_mtim.tv_nsec);
}

TEST(Views, PartialSnapshotsNeverAppear) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string good = snapshot_name(0), no_section = snapshot_name(10), active = snapshot_name(20),
                    partial = snapshot_name(30);
  add_snapshot(dest, "0", good);
  add_snapshot(dest, "0", no_section, false);  // folder, no journal section
  add_snapshot(dest, "0", partial, false);
  add_snapshot(dest, "0", active, false);
  write_journal(dest / "0", read_file(dest / "0/cfg.ini") + section(partial, "partial") +
                                "[ACTIVE]\ntimestamp = " + active +
                                "\nstatus = partial\nsources = [\"/src\"]\nbackup = /x/0\n");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-date"), std::vector<std::string>{good});
  EXPECT_EQ(list_dir(m / "by-series" / good), std::vector<std::string>{good});
  EXPECT_EQ(fs::read_symlink(m / "latest"), fs::path("by-date/" + good));
  for (const auto& hidden : {no_section, active, partial}) {
    EXPECT_FALSE(fs::exists(m / "by-date" / hidden)) << hidden;
    EXPECT_FALSE(fs::exists(m / "by-series" / good / hidden)) << hidden;
  }
}

TEST(Views, OriginalBkpPyDestinationMountsTheSameWay) {
  // As bkp.py left it: stale backup paths from before the destination moved, an older
  // series renamed from 0, and a killed run recorded as [ACTIVE] status = failed.
  TempDir tmp;
  const fs::path dest = tmp / "moved-dest";
  const std::string s1 = snapshot_name(0), s2 = snapshot_name(3600), s3 = snapshot_name(7200),
                    killed = snapshot_name(9000);
  fs::create_directories(dest / s2 / s1 / "docs");
  fs::create_directories(dest / s2 / s2 / "docs");
  fs::create_directories(dest / "0" / s3 / "docs");
  fs::create_directories(dest / "0" / killed / "docs");
  write_file(dest / s2 / s1 / "docs/a.txt", "one\n");
  write_file(dest / s2 / s2 / "docs/a.txt", "two\n");
  write_file(dest / "0" / s3 / "docs/a.txt", "three\n");
  write_file(dest / s2 / "cfg.ini", section(s1, "complete", "/media/olddisk/backup/0") +
                                        section(s2, "complete", "/media/olddisk/backup/0"));
  write_file(dest / "0/cfg.ini", section(s3, "complete", "/media/olddisk/backup/0") + "[ACTIVE]\ntimestamp = " +
                                     killed + "\nstatus = failed\nsources = [\"/home/u/docs\"]\nbackup = /x/0\n\n");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-date"), (std::vector<std::string>{s1, s2, s3}));
  EXPECT_EQ(list_dir(m / "by-series"), (std::vector<std::string>{s1, s3, "current"}));
  EXPECT_EQ(read_file(m / "by-series" / s1 / s2 / "docs/a.txt"), "two\n");
  EXPECT_EQ(read_file(m / "latest/docs/a.txt"), "three\n");
}

TEST(Views, RealBkpDestinationMounts) {
  if (bkp_binary().empty()) GTEST_SKIP() << "bkp not built";
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  fs::create_directories(src / "sub");
  write_file(src / "a.txt", "alpha\n");
  write_file(src / "sub/b.txt", "beta\n", 0600);
  RunResult full = run({bkp_binary(), "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(full.status, 0) << full.err;
  // Within the same second, bkp names the increment after the next free second.
  write_file(src / "c.txt", "gamma\n");
  RunResult inc = run({bkp_binary(), "-s", src.string(), "-d", dest.string(), "-i"});
  ASSERT_EQ(inc.status, 0) << inc.err;
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const auto snaps = list_dir(m / "by-date");
  ASSERT_EQ(snaps.size(), 2u);
  // Link counts differ (the increment links to the previous snapshot); src has no links.
  EXPECT_EQ(manifest(m / "latest/src", /*with_inode_groups=*/false), manifest(src, false));
  // Unchanged files of the increment are hard links to the previous snapshot: same inode.
  struct stat first {}, second {};
  ASSERT_EQ(::stat((m / "by-date" / snaps[0] / "src/a.txt").c_str(), &first), 0);
  ASSERT_EQ(::stat((m / "by-date" / snaps[1] / "src/a.txt").c_str(), &second), 0);
  EXPECT_EQ(first.st_ino, second.st_ino);
}

TEST(Views, ThousandsOfSnapshotsMount) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  constexpr int kSeries = 6, kPerSeries = 500;
  for (int s = 0; s < kSeries; ++s) {
    const std::string folder = s + 1 == kSeries ? "0" : snapshot_name((s + 1) * kPerSeries * 60 - 60);
    std::string journal;
    for (int i = 0; i < kPerSeries; ++i) {
      const std::string name = snapshot_name((s * kPerSeries + i) * 60);
      fs::create_directories(dest / folder / name / "src");
      journal += section(name);
    }
    write_journal(dest / folder, journal);
  }
  // How fast and how small: scripts/bench (mount_10000); here only that it works.
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "by-date").size(), static_cast<std::size_t>(kSeries * kPerSeries));
  EXPECT_EQ(list_dir(m / "by-series").size(), static_cast<std::size_t>(kSeries + 1));
}

// Issue 8, item 10: an empty destination (a first run still going) shows DEST's time.
TEST(Views, EmptyDestinationShowsTheTimeOfDestNot1970) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  add_snapshot(dest, "0", snapshot_name(0), false);
  write_journal(dest / "0", "[ACTIVE]\ntimestamp = " + snapshot_name(0) + "\nstatus = partial\n");
  struct stat own {};
  ASSERT_EQ(::stat(dest.c_str(), &own), 0);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  for (const fs::path& p : {m.path(), m / "by-date", m / "by-series"}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mtim.tv_sec, own.st_mtim.tv_sec) << p;
  }
  EXPECT_TRUE(list_dir(m / "by-date").empty());
}

}  // namespace
}  // namespace bkpfstest
