// The retention policy (restic's `forget --keep-*` semantics) on in-memory timelines, and its
// parsers. Every table lists the snapshots a policy keeps, with their reasons; every other
// snapshot of the timeline must be removed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "retention.h"
#include "time_zone.h"
#include "timestamp.h"

using namespace bkp;
using bkptest::TimeZone;

namespace {

using Kept = std::vector<std::pair<std::string, std::string>>;  // name, reasons; newest first

std::time_t at(const std::string& name) {
  const auto when = parse_timestamp(name);
  if (!when) throw std::runtime_error("not a timestamp: " + name);
  return *when;
}

std::vector<RetentionSnapshot> timeline(const std::vector<std::string>& names, const std::set<std::string>& pinned = {}) {
  std::vector<RetentionSnapshot> out;
  for (const auto& name : names) out.push_back({name, at(name), pinned.count(name) > 0});
  return out;
}

// Long after every timeline here, so that no snapshot is in the future.
const std::time_t kNow = at("2040-01-01_00:00:00");

// The kept snapshots with their reasons, newest first; checks the invariants on the way.
Kept kept(const std::vector<RetentionSnapshot>& snapshots, const RetentionRules& rules, std::time_t now = kNow) {
  const auto decisions = apply_retention(snapshots, rules, now);
  EXPECT_EQ(decisions.size(), snapshots.size());
  Kept out;
  std::set<std::size_t> indexes;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& d = decisions[i];
    indexes.insert(d.input_index);
    EXPECT_EQ(d.snapshot.name, snapshots.at(d.input_index).name);
    EXPECT_EQ(d.keep, !d.reasons.empty()) << d.snapshot.name;
    if (i > 0) {
      EXPECT_LE(d.snapshot.time, decisions[i - 1].snapshot.time) << "not newest first: " << d.snapshot.name;
    }
    if (d.keep) out.emplace_back(d.snapshot.name, d.reasons_text());
  }
  EXPECT_EQ(indexes.size(), snapshots.size()) << "every snapshot decided once";
  return out;
}

struct Case {
  const char* what;
  RetentionRules rules;
  Kept expected;
};

void check_cases(const std::vector<std::string>& names, const std::vector<Case>& cases,
                 const std::set<std::string>& pinned = {}) {
  const auto snapshots = timeline(names, pinned);
  for (const auto& c : cases) EXPECT_EQ(kept(snapshots, c.rules), c.expected) << c.what;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Parsers
// ------------------------------------------------------------------------------------------

TEST(RetentionParse, Durations) {
  const struct {
    const char* text;
    CalendarDuration d;
    const char* canonical;
  } good[] = {
      {"9h", {.hours = 9}, "9h"},
      {"3d", {.days = 3}, "3d"},
      {"1y2m10d12h", {1, 2, 10, 12}, "1y2m10d12h"},
      {"12h10d2m1y", {1, 2, 10, 12}, "1y2m10d12h"},
      {"1y1d1m", {.years = 1, .months = 1, .days = 1}, "1y1m1d"},
      {"0d", {}, ""},
      {"007m", {.months = 7}, "7m"},
      {"1000000h", {.hours = 1000000}, "1000000h"},
  };
  for (const auto& g : good) {
    const auto d = parse_calendar_duration(g.text);
    EXPECT_EQ((std::vector<int>{d.years, d.months, d.days, d.hours}),
              (std::vector<int>{g.d.years, g.d.months, g.d.days, g.d.hours})) << g.text;
    EXPECT_EQ(d.text(), g.canonical) << g.text;
  }
  EXPECT_TRUE(parse_calendar_duration("0y0h").zero());
}

TEST(RetentionParse, RefusesMalformedOrNegativeDurationsNamingTheValue) {
  for (const char* bad : {"", "-1d", "1d-3h", "+1d", "5", "d", "2w", "1y4m3w1d", "1d2d", " 5d", "5d ", "1.5d",
                          "1D", "1000001h", "99999999999d", "\xdf\x80"}) {
    try {
      parse_calendar_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(e.exit_code(), kExitUsage);
      EXPECT_NE(std::string(e.what()).find(std::string("--keep-within: '") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(RetentionParse, Counts) {
  EXPECT_EQ(parse_keep_count("0", "--keep-last"), 0);
  EXPECT_EQ(parse_keep_count("7", "--keep-daily"), 7);
  EXPECT_EQ(parse_keep_count("024", "--keep-daily"), 24);
  EXPECT_EQ(parse_keep_count("1000000000", "--keep-daily"), 1000000000);
  EXPECT_EQ(parse_keep_count("unlimited", "--keep-monthly"), kKeepUnlimited);
  for (const char* bad : {"", "-1", "+3", "3x", "x", " 3", "1e3", "1000000001", "99999999999999999999", "Unlimited"}) {
    try {
      parse_keep_count(bad, "--keep-weekly");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("--keep-weekly: '") + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(RetentionParse, EmptyRules) {
  EXPECT_TRUE(RetentionRules{}.empty());
  EXPECT_TRUE((RetentionRules{.daily = 0, .within = {}}).empty());
  EXPECT_FALSE((RetentionRules{.yearly = kKeepUnlimited}).empty());
  EXPECT_FALSE((RetentionRules{.within = {.hours = 1}}).empty());
}

// ------------------------------------------------------------------------------------------
// --keep-within's calendar arithmetic
// ------------------------------------------------------------------------------------------

TEST(RetentionWithin, SubtractsOnTheCalendarAcrossMonthEnds) {
  TimeZone zone("UTC");
  const struct {
    const char* from;
    CalendarDuration d;
    const char* expected;
  } cases[] = {
      {"2026-03-31_12:00:00", {.months = 1}, "2026-03-03_12:00:00"},  // "31 February"
      {"2024-03-31_12:00:00", {.months = 1}, "2024-03-02_12:00:00"},  // leap year
      {"2026-05-31_12:00:00", {.months = 1}, "2026-05-01_12:00:00"},  // "31 April"
      {"2026-03-01_00:30:00", {.days = 1}, "2026-02-28_00:30:00"},
      {"2024-02-29_08:00:00", {.years = 1}, "2023-03-01_08:00:00"},
      {"2026-01-15_06:00:00", {.months = 2}, "2025-11-15_06:00:00"},
      {"2026-01-01_03:00:00", {.days = 1, .hours = 4}, "2025-12-30_23:00:00"},
      {"2026-11-20_02:00:00", {1, 2, 10, 12}, "2025-09-09_14:00:00"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_timestamp(c.d.before(at(c.from))), c.expected) << c.from << " - " << c.d.text();
}

TEST(RetentionWithin, DaysAreCalendarDaysAndHoursAreHoursAcrossDst) {
  TimeZone zone("Europe/Berlin");
  // 2026-03-29: clocks go from 02:00 to 03:00 (a 23-hour day).
  const std::time_t noon = at("2026-03-29_12:00:00");
  EXPECT_EQ(format_timestamp(CalendarDuration{.days = 1}.before(noon)), "2026-03-28_12:00:00");
  EXPECT_EQ(noon - CalendarDuration{.days = 1}.before(noon), 23 * 3600);
  EXPECT_EQ(format_timestamp(CalendarDuration{.hours = 12}.before(noon)), "2026-03-28_23:00:00");
  // 2026-10-25: clocks go from 03:00 back to 02:00 (a 25-hour day).
  const std::time_t autumn = at("2026-10-25_12:00:00");
  EXPECT_EQ(autumn - CalendarDuration{.days = 1}.before(autumn), 25 * 3600);
  EXPECT_EQ(format_timestamp(CalendarDuration{.hours = 12}.before(autumn)), "2026-10-25_01:00:00");
}

TEST(RetentionWithin, KeepsWhatIsStrictlyNewerThanTheNewestMinusTheDuration) {
  TimeZone zone("UTC");
  check_cases({"2026-03-31_12:00:00", "2026-03-03_12:00:01", "2026-03-03_12:00:00", "2026-02-28_12:00:00"},
              {{"1m before 31 March is 3 March", {.within = {.months = 1}},
                {{"2026-03-31_12:00:00", "within 1m, newest"}, {"2026-03-03_12:00:01", "within 1m"}}}});
  check_cases({"2026-03-31_00:00:00", "2026-03-02_00:00:01", "2026-03-02_00:00:00", "2026-02-28_12:00:00"},
              {{"1m1d before 31 March is '30 February', 2 March", {.within = {.months = 1, .days = 1}},
                {{"2026-03-31_00:00:00", "within 1m1d, newest"}, {"2026-03-02_00:00:01", "within 1m1d"}}}});
  check_cases({"2026-04-30_23:00:00", "2026-03-02_23:00:01", "2026-03-02_23:00:00", "2026-02-28_23:00:00"},
              {{"2m before 30 April is '30 February', 2 March", {.within = {.months = 2}},
                {{"2026-04-30_23:00:00", "within 2m, newest"}, {"2026-03-02_23:00:01", "within 2m"}}},
               {"2m1d: 29 February, 1 March", {.within = {.months = 2, .days = 1}},
                {{"2026-04-30_23:00:00", "within 2m1d, newest"}, {"2026-03-02_23:00:01", "within 2m1d"},
                 {"2026-03-02_23:00:00", "within 2m1d"}}}});
}

TEST(RetentionWithin, TheLongestDurationsKeepEverything) {
  TimeZone zone("Europe/Berlin");
  const auto snaps = timeline({"1971-01-01_00:00:00", "2000-02-29_12:00:00", "2026-03-29_03:00:00"});
  for (const char* text : {"1000000y", "1000000m", "1000000d", "1000000h", "1000000y1000000m1000000d1000000h"})
    EXPECT_EQ(kept(snaps, {.within = parse_calendar_duration(text)}).size(), 3u) << text;
}

TEST(RetentionWithin, CountsFromTheNewestSnapshotNotInTheFuture) {
  TimeZone zone("UTC");
  const auto snaps = timeline({"2030-01-01_00:00:00", "2026-01-10_00:00:00", "2026-01-09_12:00:00", "2026-01-08_00:00:00"});
  const std::time_t now = at("2026-01-10_06:00:00");
  EXPECT_EQ(kept(snaps, {.within = {.days = 1}}, now),
            (Kept{{"2030-01-01_00:00:00", "within 1d, newest"}, {"2026-01-10_00:00:00", "within 1d"},
                  {"2026-01-09_12:00:00", "within 1d"}}));
  // A snapshot taken in the current second counts as the newest.
  EXPECT_EQ(kept(snaps, {.within = {.hours = 1}}, at("2026-01-10_00:00:00")),
            (Kept{{"2030-01-01_00:00:00", "within 1h, newest"}, {"2026-01-10_00:00:00", "within 1h"}}));
  // All in the future: the rule keeps everything.
  EXPECT_EQ(kept(snaps, {.within = {.hours = 1}}, at("2020-01-01_00:00:00")).size(), snaps.size());
}

// ------------------------------------------------------------------------------------------
// Calendar rules
// ------------------------------------------------------------------------------------------

TEST(RetentionRules, PeriodsWithoutSnapshotsDoNotCount) {
  TimeZone zone("UTC");
  check_cases({"2026-01-01_02:00:00", "2026-01-02_02:00:00", "2026-01-06_02:00:00", "2026-01-07_02:00:00",
               "2026-01-15_02:00:00", "2026-01-30_02:00:00", "2026-02-14_02:00:00"},
              {{"daily 3 over gaps of days", {.daily = 3},
                {{"2026-02-14_02:00:00", "daily #1, newest"}, {"2026-01-30_02:00:00", "daily #2"},
                 {"2026-01-15_02:00:00", "daily #3"}}},
               {"weekly 2 over gaps of weeks", {.weekly = 2},
                {{"2026-02-14_02:00:00", "weekly #1, newest"}, {"2026-01-30_02:00:00", "weekly #2"}}},
               {"weekly 6: five weeks hold snapshots, the sixth count keeps the oldest", {.weekly = 6},
                {{"2026-02-14_02:00:00", "weekly #1, newest"}, {"2026-01-30_02:00:00", "weekly #2"},
                 {"2026-01-15_02:00:00", "weekly #3"}, {"2026-01-07_02:00:00", "weekly #4"},
                 {"2026-01-02_02:00:00", "weekly #5"}, {"2026-01-01_02:00:00", "oldest weekly #6"}}},
               {"monthly 1", {.monthly = 1}, {{"2026-02-14_02:00:00", "monthly #1, newest"}}}});
}

TEST(RetentionRules, SeveralRunsADay) {
  TimeZone zone("UTC");
  check_cases({"2026-05-10_06:00:00", "2026-05-10_12:00:00", "2026-05-10_18:00:00", "2026-05-11_06:00:00",
               "2026-05-11_12:00:00", "2026-05-11_18:00:00", "2026-05-12_06:00:00", "2026-05-12_12:00:00",
               "2026-05-12_12:30:00"},
              {{"daily 2: the last run of each day", {.daily = 2},
                {{"2026-05-12_12:30:00", "daily #1, newest"}, {"2026-05-11_18:00:00", "daily #2"}}},
               {"hourly 4: two runs in one hour count once", {.hourly = 4},
                {{"2026-05-12_12:30:00", "hourly #1, newest"}, {"2026-05-12_06:00:00", "hourly #2"},
                 {"2026-05-11_18:00:00", "hourly #3"}, {"2026-05-11_12:00:00", "hourly #4"}}},
               {"last 3", {.last = 3},
                {{"2026-05-12_12:30:00", "last #1, newest"}, {"2026-05-12_12:00:00", "last #2"},
                 {"2026-05-12_06:00:00", "last #3"}}},
               {"daily 4 with three days: the oldest run too", {.daily = 4},
                {{"2026-05-12_12:30:00", "daily #1, newest"}, {"2026-05-11_18:00:00", "daily #2"},
                 {"2026-05-10_18:00:00", "daily #3"}, {"2026-05-10_06:00:00", "oldest daily #4"}}},
               {"daily 1: nothing but the newest", {.daily = 1}, {{"2026-05-12_12:30:00", "daily #1, newest"}}}});
}

TEST(RetentionRules, IsoWeeksAndYearsAtNewYear) {
  TimeZone zone("UTC");
  // Mon 28 Dec 2026 to Sun 3 Jan 2027 is week 53 of 2026; Mon 4 Jan 2027 starts week 1 of 2027.
  check_cases({"2026-12-28_10:00:00", "2026-12-31_10:00:00", "2027-01-01_10:00:00", "2027-01-03_10:00:00",
               "2027-01-04_10:00:00"},
              {{"weekly 2", {.weekly = 2},
                {{"2027-01-04_10:00:00", "weekly #1, newest"}, {"2027-01-03_10:00:00", "weekly #2"}}},
               {"weekly 3: the oldest too", {.weekly = 3},
                {{"2027-01-04_10:00:00", "weekly #1, newest"}, {"2027-01-03_10:00:00", "weekly #2"},
                 {"2026-12-28_10:00:00", "oldest weekly #3"}}},
               {"yearly 2: calendar years, not ISO years", {.yearly = 2},
                {{"2027-01-04_10:00:00", "yearly #1, newest"}, {"2026-12-31_10:00:00", "yearly #2"}}},
               {"monthly 2", {.monthly = 2},
                {{"2027-01-04_10:00:00", "monthly #1, newest"}, {"2026-12-31_10:00:00", "monthly #2"}}}});
  // Mon 30 Dec 2024 is in week 1 of 2025.
  check_cases({"2024-12-29_10:00:00", "2024-12-30_10:00:00", "2025-01-05_10:00:00", "2025-01-06_10:00:00"},
              {{"weekly 3", {.weekly = 3},
                {{"2025-01-06_10:00:00", "weekly #1, newest"}, {"2025-01-05_10:00:00", "weekly #2"},
                 {"2024-12-29_10:00:00", "weekly #3"}}}});
  // New year does not wipe the monthlies.
  check_cases({"2025-11-30_02:00:00", "2025-12-15_02:00:00", "2025-12-31_23:59:59", "2026-01-01_00:00:00",
               "2026-01-02_02:00:00"},
              {{"monthly 3", {.monthly = 3},
                {{"2026-01-02_02:00:00", "monthly #1, newest"}, {"2025-12-31_23:59:59", "monthly #2"},
                 {"2025-11-30_02:00:00", "monthly #3"}}},
               {"yearly 5", {.yearly = 5},
                {{"2026-01-02_02:00:00", "yearly #1, newest"}, {"2025-12-31_23:59:59", "yearly #2"},
                 {"2025-11-30_02:00:00", "oldest yearly #3"}}}});
}

TEST(RetentionRules, IsoWeeksAgreeWithStrftimeOverFortyYears) {
  TimeZone zone("UTC");
  std::vector<RetentionSnapshot> days;
  for (std::time_t t = at("2000-01-01_12:00:00"); t <= at("2040-12-31_12:00:00"); t += 86400)
    days.push_back({format_timestamp(t), t, false});
  const auto decisions = apply_retention(days, {.weekly = kKeepUnlimited}, kNow);
  const auto iso_week = [](std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%G-%V", &tm);
    return std::string(buf);
  };
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const bool newest_of_week = i == 0 || iso_week(decisions[i].snapshot.time) != iso_week(decisions[i - 1].snapshot.time);
    const bool oldest = i + 1 == decisions.size();
    EXPECT_EQ(decisions[i].keep, newest_of_week || oldest) << decisions[i].snapshot.name;
  }
}

TEST(RetentionRules, AllRulesAtOnce) {
  TimeZone zone("UTC");
  std::vector<std::string> names;
  for (std::time_t t = at("2025-10-01_02:00:00"); t <= at("2026-01-20_02:00:00"); t += 86400)
    names.push_back(format_timestamp(t));
  for (const char* extra : {"2026-01-20_10:00:00", "2026-01-20_11:00:00", "2026-01-20_12:00:00"}) names.push_back(extra);
  const RetentionRules rules{.last = 2, .hourly = 3, .daily = 4, .weekly = 3, .monthly = 3, .yearly = 2,
                             .within = {.days = 2}};
  const Kept expected = {
      {"2026-01-20_12:00:00", "last #1, hourly #1, daily #1, weekly #1, monthly #1, yearly #1, within 2d, newest"},
      {"2026-01-20_11:00:00", "last #2, hourly #2, within 2d"},
      {"2026-01-20_10:00:00", "hourly #3, within 2d"},
      {"2026-01-20_02:00:00", "within 2d"},
      {"2026-01-19_02:00:00", "daily #2, within 2d"},
      {"2026-01-18_02:00:00", "daily #3, weekly #2"},  // Sunday
      {"2026-01-17_02:00:00", "daily #4"},
      {"2026-01-11_02:00:00", "weekly #3"},
      {"2025-12-31_02:00:00", "monthly #2, yearly #2"},
      {"2025-11-30_02:00:00", "monthly #3"},
      {"2025-11-11_02:00:00", "pinned"},
  };
  check_cases(names, {{"every rule", rules, expected}}, {"2025-11-11_02:00:00"});
  RetentionRules more = rules;
  more.yearly = 3;
  Kept with_oldest = expected;
  with_oldest.emplace_back("2025-10-01_02:00:00", "oldest yearly #3");
  check_cases(names, {{"yearly 3 keeps the oldest too", more, with_oldest}}, {"2025-11-11_02:00:00"});
}

TEST(RetentionRules, PinnedAndNewestAreAlwaysKept) {
  TimeZone zone("UTC");
  const std::vector<std::string> names = {"2026-02-01_02:00:00", "2026-02-02_02:00:00", "2026-02-03_02:00:00",
                                          "2026-02-04_02:00:00", "2026-02-05_02:00:00"};
  check_cases(names,
              {{"last 1", {.last = 1}, {{"2026-02-05_02:00:00", "last #1, newest"}, {"2026-02-02_02:00:00", "pinned"}}},
               {"within 1h", {.within = {.hours = 1}},
                {{"2026-02-05_02:00:00", "within 1h, newest"}, {"2026-02-02_02:00:00", "pinned"}}},
               {"no rule", {}, {{"2026-02-05_02:00:00", "newest"}, {"2026-02-02_02:00:00", "pinned"}}}},
              {"2026-02-02_02:00:00"});
  // A pinned snapshot still fills its period: pinning never makes the rules keep more.
  check_cases(names,
              {{"daily 2", {.daily = 2},
                {{"2026-02-05_02:00:00", "daily #1, newest"}, {"2026-02-04_02:00:00", "daily #2, pinned"},
                 {"2026-02-02_02:00:00", "pinned"}}}},
              {"2026-02-02_02:00:00", "2026-02-04_02:00:00"});
  // The newest is kept even when it is in the future (a clock that was wrong).
  const auto snaps = timeline(names);
  EXPECT_EQ(kept(snaps, {.within = {.days = 1}}, at("2026-02-04_12:00:00")),
            (Kept{{"2026-02-05_02:00:00", "within 1d, newest"}, {"2026-02-04_02:00:00", "within 1d"}}));
}

TEST(RetentionRules, APolicyThatKeepsNothingButTheNewest) {
  TimeZone zone("UTC");
  check_cases({"2026-02-01_02:00:00", "2026-02-02_02:00:00", "2026-02-03_02:00:00", "2026-02-03_03:00:00"},
              {{"last 1", {.last = 1}, {{"2026-02-03_03:00:00", "last #1, newest"}}},
               {"within 1h", {.within = {.hours = 1}}, {{"2026-02-03_03:00:00", "within 1h, newest"}}},
               {"no rule", {}, {{"2026-02-03_03:00:00", "newest"}}}});
  EXPECT_TRUE(apply_retention({}, {.last = 1}, kNow).empty());
  EXPECT_EQ(kept(timeline({"2026-02-01_02:00:00"}), {.daily = 3}),
            (Kept{{"2026-02-01_02:00:00", "daily #1, newest"}}));
}

TEST(RetentionRules, InputOrderDoesNotMatterAndIndexesPointBack) {
  TimeZone zone("UTC");
  const auto snaps = timeline({"2026-02-03_02:00:00", "2026-02-01_02:00:00", "2026-02-05_02:00:00", "2026-02-02_02:00:00"});
  const auto decisions = apply_retention(snaps, {.last = 2}, kNow);
  std::vector<std::size_t> indexes;
  for (const auto& d : decisions) indexes.push_back(d.input_index);
  EXPECT_EQ(indexes, (std::vector<std::size_t>{2, 0, 3, 1}));
  EXPECT_EQ(decisions[0].reasons[0].rule, KeepRule::last);
  EXPECT_EQ(decisions[0].reasons[0].rank, 1u);
  EXPECT_EQ(decisions[1].reasons_text(), "last #2");
  EXPECT_FALSE(decisions[2].keep);
  EXPECT_EQ(decisions[2].reasons_text(), "");
  EXPECT_EQ(rule_name(KeepRule::weekly), "weekly");
}

// ------------------------------------------------------------------------------------------
// Local time: a DST change in Europe/Berlin
// ------------------------------------------------------------------------------------------

TEST(RetentionDst, FallBackDayIsOneDayAndTheRepeatedHourOneHour) {
  TimeZone zone("Europe/Berlin");
  // 2026-10-25: 03:00 CEST becomes 02:00 CET; names from 02:00 to 02:59 are ambiguous.
  check_cases({"2026-10-24_23:30:00", "2026-10-25_00:30:00", "2026-10-25_01:30:00", "2026-10-25_02:10:00",
               "2026-10-25_02:50:00", "2026-10-25_03:30:00", "2026-10-25_23:30:00", "2026-10-26_00:30:00"},
              {{"daily 3", {.daily = 3},
                {{"2026-10-26_00:30:00", "daily #1, newest"}, {"2026-10-25_23:30:00", "daily #2"},
                 {"2026-10-24_23:30:00", "daily #3"}}},
               {"hourly 5", {.hourly = 5},
                {{"2026-10-26_00:30:00", "hourly #1, newest"}, {"2026-10-25_23:30:00", "hourly #2"},
                 {"2026-10-25_03:30:00", "hourly #3"}, {"2026-10-25_02:50:00", "hourly #4"},
                 {"2026-10-25_01:30:00", "hourly #5"}}},
               {"within 1d", {.within = {.days = 1}},
                {{"2026-10-26_00:30:00", "within 1d, newest"}, {"2026-10-25_23:30:00", "within 1d"},
                 {"2026-10-25_03:30:00", "within 1d"}, {"2026-10-25_02:50:00", "within 1d"},
                 {"2026-10-25_02:10:00", "within 1d"}, {"2026-10-25_01:30:00", "within 1d"}}}});
  // The names of the repeated hour are read as its first pass (CEST): 02:10 is 2h20m before 03:30 CET.
  check_cases({"2026-10-25_01:30:00", "2026-10-25_02:10:00", "2026-10-25_02:50:00", "2026-10-25_03:30:00"},
              {{"within 2h", {.within = {.hours = 2}},
                {{"2026-10-25_03:30:00", "within 2h, newest"}, {"2026-10-25_02:50:00", "within 2h"}}}});
}

TEST(RetentionDst, SpringForwardDayIsOneDay) {
  TimeZone zone("Europe/Berlin");
  // 2026-03-29: 02:00 CET becomes 03:00 CEST; no name from 02:00 to 02:59 exists.
  check_cases({"2026-03-28_23:30:00", "2026-03-29_00:30:00", "2026-03-29_01:30:00", "2026-03-29_03:30:00",
               "2026-03-29_23:30:00", "2026-03-30_00:30:00"},
              {{"daily 3", {.daily = 3},
                {{"2026-03-30_00:30:00", "daily #1, newest"}, {"2026-03-29_23:30:00", "daily #2"},
                 {"2026-03-28_23:30:00", "daily #3"}}},
               {"hourly 4", {.hourly = 4},
                {{"2026-03-30_00:30:00", "hourly #1, newest"}, {"2026-03-29_23:30:00", "hourly #2"},
                 {"2026-03-29_03:30:00", "hourly #3"}, {"2026-03-29_01:30:00", "hourly #4"}}}});
  // One calendar day before noon on the 23-hour day is noon the day before; 12 hours are 12 real hours.
  check_cases({"2026-03-28_11:30:00", "2026-03-28_12:00:00", "2026-03-28_12:00:01", "2026-03-28_22:30:00",
               "2026-03-28_23:30:00", "2026-03-29_12:00:00"},
              {{"within 1d", {.within = {.days = 1}},
                {{"2026-03-29_12:00:00", "within 1d, newest"}, {"2026-03-28_23:30:00", "within 1d"},
                 {"2026-03-28_22:30:00", "within 1d"}, {"2026-03-28_12:00:01", "within 1d"}}},
               {"within 12h", {.within = {.hours = 12}},
                {{"2026-03-29_12:00:00", "within 12h, newest"}, {"2026-03-28_23:30:00", "within 12h"}}}});
}

// ------------------------------------------------------------------------------------------
// restic's own test timeline (internal/data/snapshot_policy_test.go, in UTC, with its
// duplicate times), and restic's results for it (its golden files), reasons translated
// ("daily snapshot" is "daily #N" here, "newest" added).
// ------------------------------------------------------------------------------------------

namespace {

const std::vector<std::string> kResticTimeline = {
    "2014-09-01_10:20:30", "2014-09-02_10:20:30", "2014-09-05_10:20:30", "2014-09-06_10:20:30", "2014-09-08_10:20:30",
    "2014-09-09_10:20:30", "2014-09-10_10:20:30", "2014-09-11_10:20:30", "2014-09-20_10:20:30", "2014-09-22_10:20:30",
    "2014-08-08_10:20:30", "2014-08-10_10:20:30", "2014-08-12_10:20:30", "2014-08-13_10:20:30", "2014-08-13_10:20:30",
    "2014-08-15_10:20:30", "2014-08-18_10:20:30", "2014-08-20_10:20:30", "2014-08-21_10:20:30", "2014-08-22_10:20:30",
    "2014-10-01_10:20:30", "2014-10-02_10:20:30", "2014-10-05_10:20:30", "2014-10-06_10:20:30", "2014-10-08_10:20:30",
    "2014-10-09_10:20:30", "2014-10-10_10:20:30", "2014-10-11_10:20:30", "2014-10-20_10:20:30", "2014-10-22_10:20:30",
    "2014-11-08_10:20:30", "2014-11-10_10:20:30", "2014-11-12_10:20:30", "2014-11-13_10:20:30", "2014-11-13_10:20:30",
    "2014-11-15_10:20:30", "2014-11-18_10:20:30", "2014-11-20_10:20:30", "2014-11-21_10:20:30", "2014-11-22_10:20:30",
    "2015-09-01_10:20:30", "2015-09-02_10:20:30", "2015-09-05_10:20:30", "2015-09-06_10:20:30", "2015-09-08_10:20:30",
    "2015-09-09_10:20:30", "2015-09-10_10:20:30", "2015-09-11_10:20:30", "2015-09-20_10:20:30", "2015-09-22_10:20:30",
    "2015-08-08_10:20:30", "2015-08-10_10:20:30", "2015-08-12_10:20:30", "2015-08-13_10:20:30", "2015-08-13_10:20:30",
    "2015-08-15_10:20:30", "2015-08-18_10:20:30", "2015-08-20_10:20:30", "2015-08-21_10:20:30", "2015-08-22_10:20:30",
    "2015-10-01_10:20:30", "2015-10-02_10:20:30", "2015-10-05_10:20:30", "2015-10-06_10:20:30", "2015-10-08_10:20:30",
    "2015-10-09_10:20:30", "2015-10-10_10:20:30", "2015-10-11_10:20:30", "2015-10-20_10:20:30", "2015-10-22_10:20:30",
    "2015-10-22_10:20:30", "2015-10-22_10:20:30", "2015-10-22_10:20:30", "2015-10-22_10:20:30", "2015-11-08_10:20:30",
    "2015-11-10_10:20:30", "2015-11-12_10:20:30", "2015-11-13_10:20:30", "2015-11-13_10:20:30", "2015-11-15_10:20:30",
    "2015-11-18_10:20:30", "2015-11-20_10:20:30", "2015-11-21_10:20:30", "2015-11-22_10:20:30", "2016-01-01_01:02:03",
    "2016-01-01_01:03:03", "2016-01-01_07:08:03", "2016-01-03_07:02:03", "2016-01-04_10:23:03", "2016-01-04_11:23:03",
    "2016-01-04_12:23:03", "2016-01-04_12:24:03", "2016-01-04_12:28:03", "2016-01-04_12:30:03", "2016-01-04_16:23:03",
    "2016-01-05_09:02:03", "2016-01-06_08:02:03", "2016-01-07_10:02:03", "2016-01-08_20:02:03", "2016-01-09_21:02:03",
    "2016-01-12_21:02:03", "2016-01-12_21:08:03", "2016-01-18_12:02:03", 
};

}  // namespace

TEST(RetentionRestic, SameKeepsAndReasonsAsRestic) {
  TimeZone zone("UTC");
  check_cases(kResticTimeline, {
    {"--keep-last 10",
     {.last = 10},
     {
      {"2016-01-18_12:02:03", "last #1, newest"},
      {"2016-01-12_21:08:03", "last #2"},
      {"2016-01-12_21:02:03", "last #3"},
      {"2016-01-09_21:02:03", "last #4"},
      {"2016-01-08_20:02:03", "last #5"},
      {"2016-01-07_10:02:03", "last #6"},
      {"2016-01-06_08:02:03", "last #7"},
      {"2016-01-05_09:02:03", "last #8"},
      {"2016-01-04_16:23:03", "last #9"},
      {"2016-01-04_12:30:03", "last #10"},
     }},
    {"--keep-hourly 20",
     {.hourly = 20},
     {
      {"2016-01-18_12:02:03", "hourly #1, newest"},
      {"2016-01-12_21:08:03", "hourly #2"},
      {"2016-01-09_21:02:03", "hourly #3"},
      {"2016-01-08_20:02:03", "hourly #4"},
      {"2016-01-07_10:02:03", "hourly #5"},
      {"2016-01-06_08:02:03", "hourly #6"},
      {"2016-01-05_09:02:03", "hourly #7"},
      {"2016-01-04_16:23:03", "hourly #8"},
      {"2016-01-04_12:30:03", "hourly #9"},
      {"2016-01-04_11:23:03", "hourly #10"},
      {"2016-01-04_10:23:03", "hourly #11"},
      {"2016-01-03_07:02:03", "hourly #12"},
      {"2016-01-01_07:08:03", "hourly #13"},
      {"2016-01-01_01:03:03", "hourly #14"},
      {"2015-11-22_10:20:30", "hourly #15"},
      {"2015-11-21_10:20:30", "hourly #16"},
      {"2015-11-20_10:20:30", "hourly #17"},
      {"2015-11-18_10:20:30", "hourly #18"},
      {"2015-11-15_10:20:30", "hourly #19"},
      {"2015-11-13_10:20:30", "hourly #20"},
     }},
    {"--keep-daily 10",
     {.daily = 10},
     {
      {"2016-01-18_12:02:03", "daily #1, newest"},
      {"2016-01-12_21:08:03", "daily #2"},
      {"2016-01-09_21:02:03", "daily #3"},
      {"2016-01-08_20:02:03", "daily #4"},
      {"2016-01-07_10:02:03", "daily #5"},
      {"2016-01-06_08:02:03", "daily #6"},
      {"2016-01-05_09:02:03", "daily #7"},
      {"2016-01-04_16:23:03", "daily #8"},
      {"2016-01-03_07:02:03", "daily #9"},
      {"2016-01-01_07:08:03", "daily #10"},
     }},
    {"--keep-last 5 --keep-daily 5",
     {.last = 5, .daily = 5},
     {
      {"2016-01-18_12:02:03", "last #1, daily #1, newest"},
      {"2016-01-12_21:08:03", "last #2, daily #2"},
      {"2016-01-12_21:02:03", "last #3"},
      {"2016-01-09_21:02:03", "last #4, daily #3"},
      {"2016-01-08_20:02:03", "last #5, daily #4"},
      {"2016-01-07_10:02:03", "daily #5"},
     }},
    {"--keep-weekly 4",
     {.weekly = 4},
     {
      {"2016-01-18_12:02:03", "weekly #1, newest"},
      {"2016-01-12_21:08:03", "weekly #2"},
      {"2016-01-09_21:02:03", "weekly #3"},
      {"2016-01-03_07:02:03", "weekly #4"},
     }},
    {"--keep-daily 3 --keep-weekly 4",
     {.daily = 3, .weekly = 4},
     {
      {"2016-01-18_12:02:03", "daily #1, weekly #1, newest"},
      {"2016-01-12_21:08:03", "daily #2, weekly #2"},
      {"2016-01-09_21:02:03", "daily #3, weekly #3"},
      {"2016-01-03_07:02:03", "weekly #4"},
     }},
    {"--keep-monthly 6",
     {.monthly = 6},
     {
      {"2016-01-18_12:02:03", "monthly #1, newest"},
      {"2015-11-22_10:20:30", "monthly #2"},
      {"2015-10-22_10:20:30", "monthly #3"},
      {"2015-09-22_10:20:30", "monthly #4"},
      {"2015-08-22_10:20:30", "monthly #5"},
      {"2014-11-22_10:20:30", "monthly #6"},
     }},
    {"--keep-daily 2 --keep-weekly 2 --keep-monthly 6",
     {.daily = 2, .weekly = 2, .monthly = 6},
     {
      {"2016-01-18_12:02:03", "daily #1, weekly #1, monthly #1, newest"},
      {"2016-01-12_21:08:03", "daily #2, weekly #2"},
      {"2015-11-22_10:20:30", "monthly #2"},
      {"2015-10-22_10:20:30", "monthly #3"},
      {"2015-09-22_10:20:30", "monthly #4"},
      {"2015-08-22_10:20:30", "monthly #5"},
      {"2014-11-22_10:20:30", "monthly #6"},
     }},
    {"--keep-yearly 10 (restic keeps the oldest too)",
     {.yearly = 10},
     {
      {"2016-01-18_12:02:03", "yearly #1, newest"},
      {"2015-11-22_10:20:30", "yearly #2"},
      {"2014-11-22_10:20:30", "yearly #3"},
      {"2014-08-08_10:20:30", "oldest yearly #4"},
     }},
    {"--keep-daily 7 --keep-weekly 2 --keep-monthly 3 --keep-yearly 10",
     {.daily = 7, .weekly = 2, .monthly = 3, .yearly = 10},
     {
      {"2016-01-18_12:02:03", "daily #1, weekly #1, monthly #1, yearly #1, newest"},
      {"2016-01-12_21:08:03", "daily #2, weekly #2"},
      {"2016-01-09_21:02:03", "daily #3"},
      {"2016-01-08_20:02:03", "daily #4"},
      {"2016-01-07_10:02:03", "daily #5"},
      {"2016-01-06_08:02:03", "daily #6"},
      {"2016-01-05_09:02:03", "daily #7"},
      {"2015-11-22_10:20:30", "monthly #2, yearly #2"},
      {"2015-10-22_10:20:30", "monthly #3"},
      {"2014-11-22_10:20:30", "yearly #3"},
      {"2014-08-08_10:20:30", "oldest yearly #4"},
     }},
    {"--keep-within 7d",
     {.within = {.days = 7}},
     {
      {"2016-01-18_12:02:03", "within 7d, newest"},
      {"2016-01-12_21:08:03", "within 7d"},
      {"2016-01-12_21:02:03", "within 7d"},
     }},
    {"--keep-within 13d23h",
     {.within = {.days = 13, .hours = 23}},
     {
      {"2016-01-18_12:02:03", "within 13d23h, newest"},
      {"2016-01-12_21:08:03", "within 13d23h"},
      {"2016-01-12_21:02:03", "within 13d23h"},
      {"2016-01-09_21:02:03", "within 13d23h"},
      {"2016-01-08_20:02:03", "within 13d23h"},
      {"2016-01-07_10:02:03", "within 13d23h"},
      {"2016-01-06_08:02:03", "within 13d23h"},
      {"2016-01-05_09:02:03", "within 13d23h"},
      {"2016-01-04_16:23:03", "within 13d23h"},
     }},
    {"--keep-daily 3 --keep-weekly 2 --keep-monthly unlimited --keep-yearly unlimited",
     {.daily = 3, .weekly = 2, .monthly = kKeepUnlimited, .yearly = kKeepUnlimited},
     {
      {"2016-01-18_12:02:03", "daily #1, weekly #1, monthly #1, yearly #1, newest"},
      {"2016-01-12_21:08:03", "daily #2, weekly #2"},
      {"2016-01-09_21:02:03", "daily #3"},
      {"2015-11-22_10:20:30", "monthly #2, yearly #2"},
      {"2015-10-22_10:20:30", "monthly #3"},
      {"2015-09-22_10:20:30", "monthly #4"},
      {"2015-08-22_10:20:30", "monthly #5"},
      {"2014-11-22_10:20:30", "monthly #6, yearly #3"},
      {"2014-10-22_10:20:30", "monthly #7"},
      {"2014-09-22_10:20:30", "monthly #8"},
      {"2014-08-22_10:20:30", "monthly #9"},
      {"2014-08-08_10:20:30", "oldest monthly #10, oldest yearly #4"},
     }},
  });
}

TEST(RetentionRestic, SameNumbersKeptAsRestic) {
  TimeZone zone("UTC");
  const auto snaps = timeline(kResticTimeline);
  const struct {
    RetentionRules rules;
    std::size_t kept;
    const char* oldest_kept;
  } cases[] = {
      {{.last = 15}, 15, "2016-01-04_10:23:03"},
      {{.last = 99}, 99, "2014-08-13_10:20:30"},
      {{.last = 200}, 103, "2014-08-08_10:20:30"},
      {{.daily = 30}, 30, "2015-09-22_10:20:30"},
      {{.within = {.days = 1}}, 1, "2016-01-18_12:02:03"},
      {{.within = {.days = 2}}, 1, "2016-01-18_12:02:03"},
      {{.within = {.months = 1}}, 19, "2016-01-01_01:02:03"},
      {{.within = {.months = 1, .days = 14}}, 19, "2016-01-01_01:02:03"},
      {{.within = {.years = 1, .months = 1, .days = 1}}, 63, "2015-08-08_10:20:30"},
      {{.within = {.months = 2, .hours = 2}}, 23, "2015-11-18_10:20:30"},
      {{.within = {.years = 1, .months = 2, .days = 3, .hours = 3}}, 68, "2014-11-15_10:20:30"},
      {{.last = kKeepUnlimited}, 103, "2014-08-08_10:20:30"},
      {{.last = kKeepUnlimited, .hourly = kKeepUnlimited}, 103, "2014-08-08_10:20:30"},
      {{.hourly = kKeepUnlimited}, 90, "2014-08-08_10:20:30"},
  };
  for (const auto& c : cases) {
    const Kept k = kept(snaps, c.rules);
    EXPECT_EQ(k.size(), c.kept) << c.oldest_kept;
    if (!k.empty()) {
      EXPECT_EQ(k.back().first, c.oldest_kept);
    }
    // restic's check: a policy of counts never keeps more than the counts add up to.
    const long long sum = c.rules.last + c.rules.hourly + c.rules.daily + c.rules.weekly + c.rules.monthly + c.rules.yearly;
    if (c.rules.within.zero() && sum > 0) {
      EXPECT_LE(static_cast<long long>(k.size()), sum);
    }
  }
}
