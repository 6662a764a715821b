// The virtual tree as data: the whole map from path to entry, compared as such (the way
// restic's TestMakeDirs tests snapshots_dirstruct).
#include <gtest/gtest.h>

#include "store.h"
#include "timeline.h"

namespace bkpfs {
namespace {

bkp::Snapshot snap(const std::string& name, const std::string& series, bool complete = true) {
  bkp::Snapshot s;
  s.name = name;
  s.series = series;
  s.complete = complete;
  return s;
}

const std::string A1 = "2026-11-12_02:00:00", A2 = "2026-11-19_02:00:00";
const std::string B1 = "2026-11-20_02:00:00", B2 = "2026-11-21_02:00:00", B3 = "2026-11-22_02:00:00";

// Two series: an older one renamed to its newest snapshot, and the current one.
bkp::Destination sample() {
  bkp::Destination d;
  bkp::Series old;
  old.folder = A2;
  old.snapshots = {snap(A1, old.folder), snap(A2, old.folder)};
  bkp::Series cur;
  cur.folder = "0";
  cur.snapshots = {snap(B1, "0"), snap(B2, "0"), snap(B3, "0", false)};
  d.series = {old, cur};
  return d;
}

// One line per entry, "path: what", so a failure shows the whole tree.
std::vector<std::string> describe(const ViewTree& tree) {
  std::vector<std::string> out;
  for (const auto& [path, e] : tree) {
    std::string line = "/" + path + ": ";
    switch (e.type) {
      case ViewType::dir:
        line += "dir";
        for (const auto& c : e.children) line += " " + c;
        break;
      case ViewType::link: line += "-> " + e.target; break;
      case ViewType::snapshot: line += "snapshot " + e.snapshot; break;
      case ViewType::versions: line += "versions"; break;
      case ViewType::changes: line += "changes of " + e.snapshot; break;
    }
    out.push_back(line);
  }
  return out;
}

TEST(ViewTree, MakeDirs) {
  auto t = Timeline::build(sample());
  EXPECT_EQ(describe(t->views()), (std::vector<std::string>{
      "/: dir by-date by-series changes latest versions",
      "/by-date: dir " + A1 + " " + A2 + " " + B1 + " " + B2,
      "/by-date/" + A1 + ": snapshot " + A1,
      "/by-date/" + A2 + ": snapshot " + A2,
      "/by-date/" + B1 + ": snapshot " + B1,
      "/by-date/" + B2 + ": snapshot " + B2,
      "/by-series: dir " + A1 + " " + B1 + " current",
      "/by-series/" + A1 + ": dir " + A1 + " " + A2,
      "/by-series/" + A1 + "/" + A1 + ": snapshot " + A1,
      "/by-series/" + A1 + "/" + A2 + ": snapshot " + A2,
      "/by-series/" + B1 + ": dir " + B1 + " " + B2,
      "/by-series/" + B1 + "/" + B1 + ": snapshot " + B1,
      "/by-series/" + B1 + "/" + B2 + ": snapshot " + B2,
      "/by-series/current: -> " + B1,
      "/changes: dir " + A1 + " " + A2 + " " + B1 + " " + B2,
      "/changes/" + A1 + ": changes of " + A1,
      "/changes/" + A2 + ": changes of " + A2,
      "/changes/" + B1 + ": changes of " + B1,
      "/changes/" + B2 + ": changes of " + B2,
      "/latest: -> by-date/" + B2,
      "/versions: versions",
  }));
  EXPECT_EQ(t->series_of(A1), A2);
  EXPECT_EQ(t->series_of(B2), "0");
  EXPECT_EQ(t->previous_of(B1), A2);  // by time, across series
  EXPECT_FALSE(t->previous_of(A1));
  EXPECT_EQ(t->index_of(B2), 3u);
}

TEST(ViewTree, PartialSnapshotsAreNowhere) {
  auto t = Timeline::build(sample());
  for (const auto& [path, e] : t->views()) {
    EXPECT_EQ(path.find(B3), std::string::npos) << path;
    EXPECT_NE(e.snapshot, B3);
  }
  EXPECT_FALSE(t->series_of(B3));
  EXPECT_FALSE(t->index_of(B3));
}

TEST(ViewTree, EmptyDestinationHasNoLinks) {
  bkp::Destination d;
  bkp::Series cur;
  cur.folder = "0";
  cur.snapshots = {snap(B3, "0", false)};
  d.series = {cur};
  auto t = Timeline::build(d);
  EXPECT_EQ(describe(t->views()), (std::vector<std::string>{"/: dir by-date by-series changes versions",
                                                             "/by-date: dir", "/by-series: dir", "/changes: dir",
                                                             "/versions: versions"}));
}

// Issue 8, item 8: while a full run fills the new 0/, `current` stays on the series that
// was current (renamed to its newest snapshot) instead of vanishing.
TEST(ViewTree, CurrentStaysOnTheNewestCompleteSeriesDuringAFullRun) {
  bkp::Destination d = sample();
  for (auto& s : d.series[1].snapshots) s.complete = false;
  auto t = Timeline::build(d);
  EXPECT_EQ(t->view("by-series")->children, (std::vector<std::string>{A1, "current"}));
  EXPECT_EQ(t->view("latest")->target, "by-date/" + A2);
  EXPECT_EQ(t->view("by-series/current")->target, A1);
}

TEST(ViewTree, EqualTimelinesCompareEqual) {
  EXPECT_TRUE(*Timeline::build(sample()) == *Timeline::build(sample()));
  bkp::Destination d = sample();
  d.series[1].snapshots[2].complete = true;
  EXPECT_FALSE(*Timeline::build(sample()) == *Timeline::build(d));
}

// The journal's `xattrs = false` (bkp found no xattr or ACL in any source) is a fact of the
// snapshot that the xattr replies rely on: a journal that changes it changes the timeline.
TEST(ViewTree, XattrFreeRecordIsPerSnapshotAndCompared) {
  bkp::Destination d = sample();
  d.series[1].snapshots[0].journal["xattrs"] = "false";
  d.series[1].snapshots[1].journal["xattrs"] = "true";
  const auto t = Timeline::build(d);
  EXPECT_TRUE(t->known_without_xattrs(B1));
  EXPECT_FALSE(t->known_without_xattrs(B2));  // recorded with xattrs
  EXPECT_FALSE(t->known_without_xattrs(A1));  // no record: an older bkp
  EXPECT_FALSE(t->known_without_xattrs(B3));  // not complete
  EXPECT_EQ(t->views(), Timeline::build(sample())->views());
  EXPECT_FALSE(*t == *Timeline::build(sample()));
  EXPECT_TRUE(*t == *Timeline::build(d));
}

}  // namespace
}  // namespace bkpfs
