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

// Two series: an older one renamed to its newest snapshot, and the current one.
bkp::Destination sample() {
  bkp::Destination d;
  bkp::Series old;
  old.folder = "2026-11-19_02:00:00";
  old.snapshots = {snap("2026-11-12_02:00:00", old.folder), snap("2026-11-19_02:00:00", old.folder)};
  bkp::Series cur;
  cur.folder = "0";
  cur.snapshots = {snap("2026-11-20_02:00:00", "0"), snap("2026-11-21_02:00:00", "0"),
                   snap("2026-11-22_02:00:00", "0", false)};
  d.series = {old, cur};
  return d;
}

std::vector<std::string> names(const std::optional<std::vector<VirtualEntry>>& entries) {
  std::vector<std::string> out;
  for (const auto& e : *entries) out.push_back(e.name);
  return out;
}

TEST(Timeline, ViewsOfTheContract) {
  auto t = Timeline::build(sample());
  EXPECT_EQ(names(t->list(Kind::Root, {})), (std::vector<std::string>{"by-date", "by-series", "latest"}));
  EXPECT_EQ(names(t->list(Kind::ByDate, {})),
            (std::vector<std::string>{"2026-11-12_02:00:00", "2026-11-19_02:00:00", "2026-11-20_02:00:00",
                                      "2026-11-21_02:00:00"}));
  EXPECT_EQ(names(t->list(Kind::BySeries, {})),
            (std::vector<std::string>{"2026-11-12_02:00:00", "2026-11-20_02:00:00", "current"}));
  EXPECT_EQ(names(t->list(Kind::Series, "2026-11-20_02:00:00")),
            (std::vector<std::string>{"2026-11-20_02:00:00", "2026-11-21_02:00:00"}));
  EXPECT_EQ(t->link_target(Kind::Latest), "by-date/2026-11-21_02:00:00");
  EXPECT_EQ(t->link_target(Kind::Current), "2026-11-20_02:00:00");
  EXPECT_EQ(t->series_of("2026-11-12_02:00:00"), "2026-11-19_02:00:00");
  EXPECT_EQ(t->series_of("2026-11-21_02:00:00"), "0");
}

TEST(Timeline, PartialSnapshotsAreNowhere) {
  auto t = Timeline::build(sample());
  EXPECT_FALSE(t->find(Kind::ByDate, {}, "2026-11-22_02:00:00"));
  EXPECT_FALSE(t->find(Kind::Series, "2026-11-20_02:00:00", "2026-11-22_02:00:00"));
  EXPECT_FALSE(t->series_of("2026-11-22_02:00:00"));
}

TEST(Timeline, FindMatchesList) {
  auto t = Timeline::build(sample());
  auto e = t->find(Kind::BySeries, {}, "2026-11-12_02:00:00");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Kind::Series);
  EXPECT_EQ(t->find(Kind::ByDate, {}, "2026-11-20_02:00:00")->kind, Kind::SnapshotRoot);
  EXPECT_EQ(t->find(Kind::BySeries, {}, "current")->kind, Kind::Current);
  EXPECT_FALSE(t->find(Kind::Root, {}, "nothing"));
  EXPECT_FALSE(t->list(Kind::Series, "2000-01-01_00:00:00"));  // a series that went away
}

TEST(Timeline, EmptyDestinationHasNoLinks) {
  bkp::Destination d;
  bkp::Series cur;
  cur.folder = "0";
  cur.snapshots = {snap("2026-11-22_02:00:00", "0", false)};
  d.series = {cur};
  auto t = Timeline::build(d);
  EXPECT_EQ(names(t->list(Kind::Root, {})), (std::vector<std::string>{"by-date", "by-series"}));
  EXPECT_TRUE(t->list(Kind::ByDate, {})->empty());
  EXPECT_TRUE(t->list(Kind::BySeries, {})->empty());
  EXPECT_FALSE(t->link_target(Kind::Latest));
  EXPECT_FALSE(t->link_target(Kind::Current));
}

// Issue 8, item 8: while a full run fills the new 0/, `current` stays on the series that
// was current (renamed to its newest snapshot) instead of vanishing.
TEST(Timeline, CurrentStaysOnTheNewestCompleteSeriesDuringAFullRun) {
  bkp::Destination d = sample();
  for (auto& s : d.series[1].snapshots) s.complete = false;
  auto t = Timeline::build(d);
  EXPECT_EQ(names(t->list(Kind::BySeries, {})), (std::vector<std::string>{"2026-11-12_02:00:00", "current"}));
  EXPECT_EQ(t->link_target(Kind::Latest), "by-date/2026-11-19_02:00:00");
  EXPECT_EQ(t->link_target(Kind::Current), "2026-11-12_02:00:00");
}

}  // namespace
}  // namespace bkpfs
