// bkpfs::Filesystem without FUSE, on a destination in a temporary directory: the answers
// the operations give (lookups, attributes, listings, links) and what the kernel is told
// to forget when the timeline changes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "filesystem.h"
#include "test_support.h"

namespace bkpfs {
namespace {

namespace fs = std::filesystem;

const std::string S1 = "2026-11-20_02:00:00", S2 = "2026-11-21_02:00:00", S3 = "2026-11-22_02:00:00";

std::string section(const std::string& name) {
  return "[" + name + "]\ntimestamp = " + name + "\nstatus = complete\nsources = [\"/src/home\"]\nbackup = /x/0\n\n";
}

struct Fixture {
  bkptest::TempDir tmp;
  fs::path dest = tmp / "dest";
  std::unique_ptr<TimelineWatcher> watcher;
  std::unique_ptr<Filesystem> fsys;

  Fixture() {
    bkptest::write_file(dest / "0" / S1 / "home/a.txt", "one\n");
    bkptest::write_file(dest / "0" / S1 / "home/b.txt", "bee\n");
    fs::create_directories(dest / "0" / S2 / "home");
    fs::create_hard_link(dest / "0" / S1 / "home/a.txt", dest / "0" / S2 / "home/a.txt");
    bkptest::write_file(dest / "0" / S2 / "home/b.txt", "bee, edited\n");
    bkptest::write_file(dest / "0/cfg.ini", section(S1) + section(S2));
    watcher = std::make_unique<TimelineWatcher>(dest);
    fsys = std::make_unique<Filesystem>(UniqueFd(::open(dest.c_str(), O_PATH | O_DIRECTORY)), *watcher);
  }
  NodeId walk(const std::string& path) {
    NodeId id = kRootId;
    for (const auto& part : fs::path(path)) {
      const Entry e = fsys->lookup(id, part.string());
      if (e.id == 0) return 0;
      id = e.id;
    }
    return id;
  }
  std::vector<std::string> names(const std::string& path) {
    std::vector<std::string> out;
    for (const DirEntry& d : fsys->list(walk(path)).entries) out.push_back(d.name);
    return out;
  }
};

TEST(Filesystem, SnapshotContentHasItsRealAttributes) {
  Fixture f;
  const NodeId file = f.walk("by-date/" + S1 + "/home/a.txt");
  ASSERT_NE(file, 0u);
  struct stat real {};
  ASSERT_EQ(::lstat((f.dest / "0" / S1 / "home/a.txt").c_str(), &real), 0);
  const struct stat shown = f.fsys->attr(file);
  EXPECT_EQ(shown.st_ino, real.st_ino);
  EXPECT_EQ(shown.st_nlink, 2u);
  EXPECT_EQ(shown.st_size, 4);
  EXPECT_EQ(f.fsys->readlink(f.walk("latest")), "by-date/" + S2);
  EXPECT_EQ(f.fsys->readlink(f.walk("by-series/current")), S1);
  EXPECT_EQ(f.walk("by-date/" + S1 + "/home/missing"), 0u);
  EXPECT_EQ(f.fsys->lookup(f.walk("by-date/" + S1 + "/home"), "missing").entry_timeout,
            f.fsys->tuning().content_timeout);  // missing stays missing in a snapshot
  EXPECT_EQ(f.fsys->lookup(kRootId, "missing").entry_timeout, 0);  // the timeline may grow
}

// libfuse's test_examples.py check, on the listings themselves (plain READDIR).
TEST(Filesystem, ListingInodesEqualStatInodes) {
  Fixture f;
  int checked = 0;
  std::function<void(NodeId, const std::string&)> walk = [&](NodeId dir, const std::string& path) {
    const Listing listing = f.fsys->list(dir);
    EXPECT_EQ(listing.self_ino, f.fsys->attr(dir).st_ino) << path;
    for (const DirEntry& d : listing.entries) {
      const Entry e = f.fsys->lookup(dir, d.name);
      ASSERT_NE(e.id, 0u) << path << "/" << d.name;
      EXPECT_EQ(e.attr.st_ino, d.ino) << path << "/" << d.name;
      EXPECT_EQ(f.fsys->attr(e.id).st_ino, d.ino) << path << "/" << d.name;
      ++checked;
      if (S_ISDIR(e.attr.st_mode)) walk(e.id, path + "/" + d.name);
    }
  };
  walk(kRootId, "");
  EXPECT_GT(checked, 30);
}

TEST(Filesystem, VersionsAndChanges) {
  Fixture f;
  EXPECT_EQ(f.names("versions"), std::vector<std::string>{"home"});
  EXPECT_EQ(f.names("versions/home"), (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(f.names("versions/home/a.txt"), std::vector<std::string>{S1 + ".txt"});
  EXPECT_EQ(f.names("versions/home/b.txt"), (std::vector<std::string>{S1 + ".txt", S2 + ".txt"}));
  const NodeId v = f.walk("versions/home/b.txt/" + S1 + ".txt");
  ASSERT_NE(v, 0u);
  char buf[16] = {};
  EXPECT_EQ(::pread(f.fsys->read_fd(v)->get(), buf, sizeof buf, 0), 4);
  EXPECT_STREQ(buf, "bee\n");
  EXPECT_EQ(f.walk("versions/home/b.txt/" + S3 + ".txt"), 0u);
  auto first = f.names("changes/" + S1 + "/home");  // the first snapshot: all of it, in readdir order
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(f.names("changes/" + S2 + "/home"), std::vector<std::string>{"b.txt"});
  EXPECT_EQ(f.walk("changes/" + S2 + "/home/a.txt"), 0u);  // unchanged: hard link
}

TEST(Filesystem, ANewSnapshotInvalidatesWhatChanged) {
  Fixture f;
  const NodeId by_date = f.walk("by-date");
  const NodeId latest = f.walk("latest");
  const NodeId versions_b = f.walk("versions/home/b.txt");
  const NodeId s1 = f.walk("by-date/" + S1);
  auto before = f.watcher->current();
  bkptest::write_file(f.dest / "0" / S3 / "home/b.txt", "third\n");
  bkptest::write_file(f.dest / "0/cfg.ini", section(S1) + section(S2) + section(S3));
  ASSERT_TRUE(f.watcher->refresh());
  const auto inval = f.fsys->timeline_changed(*before, *f.watcher->current());
  auto has = [&](const Invalidation& i) { return std::find(inval.begin(), inval.end(), i) != inval.end(); };
  EXPECT_TRUE(has({by_date, ""}));
  EXPECT_TRUE(has({latest, ""}));
  EXPECT_TRUE(has({versions_b, ""}));
  EXPECT_FALSE(has({s1, ""}));  // a snapshot folder never changes
  EXPECT_EQ(f.names("versions/home/b.txt").size(), 3u);
  EXPECT_EQ(f.fsys->readlink(latest), "by-date/" + S3);

  // A prune of S1: its name goes from by-date.
  before = f.watcher->current();
  bkptest::write_file(f.dest / "0/cfg.ini", section(S2) + section(S3));
  fs::remove_all(f.dest / "0" / S1);
  ASSERT_TRUE(f.watcher->refresh());
  const auto gone = f.fsys->timeline_changed(*before, *f.watcher->current());
  EXPECT_NE(std::find(gone.begin(), gone.end(), Invalidation{by_date, S1}), gone.end());
}

// The xattr replies ask which snapshot a node shows: content below by-date/ and by-series/,
// and entries of versions/ and changes/, each in the snapshot it comes from.
TEST(Filesystem, SnapshotOfEveryContentNode) {
  Fixture f;
  auto of = [&](const std::string& path) {
    const NodeId id = f.walk(path);
    EXPECT_NE(id, 0u) << path;
    return f.fsys->snapshot_of(id).value_or("none");
  };
  EXPECT_EQ(of("by-date/" + S1), S1);
  EXPECT_EQ(of("by-date/" + S1 + "/home/a.txt"), S1);
  EXPECT_EQ(of("by-date/" + S2 + "/home/b.txt"), S2);
  EXPECT_EQ(of("by-series/" + S1 + "/" + S2 + "/home"), S2);
  EXPECT_EQ(of("versions/home/b.txt/" + S1 + ".txt"), S1);
  EXPECT_EQ(of("versions/home/b.txt/" + S2 + ".txt"), S2);
  EXPECT_EQ(of("changes/" + S2 + "/home"), S2);
  EXPECT_EQ(of("changes/" + S2 + "/home/b.txt"), S2);
  // The virtual tree is in no snapshot (changes/<snapshot> is a filtered view of it).
  EXPECT_FALSE(f.fsys->snapshot_of(kRootId));
  const std::vector<std::string> virtual_paths{
      "by-date", "latest", "by-series/current", "versions", "versions/home", "versions/home/b.txt",
      "changes", "changes/" + S2};
  for (const std::string& path : virtual_paths) EXPECT_EQ(of(path), "none") << path;
}

// A snapshot recorded as xattr-free is answered without the disk; the root's checks
// attribute, which the tests and scripts wait on, is not in a snapshot and stays answered.
TEST(Filesystem, XattrFreeSnapshotsAndTheChecksAttribute) {
  Fixture f;
  bkptest::write_file(f.dest / "0/cfg.ini",
                      section(S1) + section(S2).insert(section(S2).size() - 1, "xattrs = false\n"));
  ASSERT_TRUE(f.watcher->refresh());
  const std::vector<std::string> in_s2{"by-date/" + S2, "by-date/" + S2 + "/home/b.txt",
                                       "by-series/" + S1 + "/" + S2 + "/home", "versions/home/b.txt/" + S2 + ".txt",
                                       "changes/" + S2 + "/home/b.txt"};
  for (const std::string& path : in_s2) EXPECT_TRUE(f.fsys->recorded_without_xattrs(f.walk(path))) << path;
  const std::vector<std::string> elsewhere{"by-date/" + S1 + "/home/b.txt", "versions/home/b.txt/" + S1 + ".txt",
                                           "changes/" + S2, "by-date", "latest"};
  for (const std::string& path : elsewhere) EXPECT_FALSE(f.fsys->recorded_without_xattrs(f.walk(path))) << path;
  EXPECT_FALSE(f.fsys->recorded_without_xattrs(kRootId));
  EXPECT_EQ(f.fsys->getxattr(kRootId, kChecksXattr), std::to_string(f.watcher->checks()));
}

// Issue 8, item 10: an empty timeline shows DEST's time, not 1970.
TEST(Filesystem, EmptyTimelineHasTheTimeOfDest) {
  bkptest::TempDir tmp;
  bkptest::write_file(tmp / "dest/0/cfg.ini", "[ACTIVE]\nstatus = partial\n");
  struct stat own {};
  ASSERT_EQ(::stat((tmp / "dest").c_str(), &own), 0);
  TimelineWatcher watcher(tmp / "dest");
  Filesystem fsys(UniqueFd(::open((tmp / "dest").c_str(), O_PATH | O_DIRECTORY)), watcher);
  EXPECT_EQ(fsys.attr(kRootId).st_mtim.tv_sec, own.st_mtim.tv_sec);
  EXPECT_TRUE(fsys.list(fsys.lookup(kRootId, "by-date").id).entries.empty());
}

}  // namespace
}  // namespace bkpfs
