#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "time_zone.h"
#include "timestamp.h"

using namespace bkp;
using bkptest::TimeZone;

TEST(Timestamp, RoundTrip) {
  const std::time_t now = 1764560000;
  const auto name = format_timestamp(now);
  EXPECT_EQ(name.size(), 19u);
  EXPECT_EQ(parse_timestamp(name), now);
}

TEST(Timestamp, AcceptsOriginalNames) {
  EXPECT_TRUE(is_timestamp_name("2026-11-20_02:00:00"));
  EXPECT_TRUE(is_timestamp_name("2024-02-29_23:59:59"));
}

TEST(Timestamp, RejectsEverythingElse) {
  for (const char* bad : {"", "0", "cfg.ini", "2026-11-20", "2026-11-20 02:00:00", "2026-11-20_02:00:00x",
                          "2026-02-30_02:00:00", "2026-11-20_25:00:00", "2026-13-01_00:00:00",
                          "2026-11-20_02:00:0a", "+026-11-20_02:00:00", "2026-11-20_02:00:60", "2026-11-20_02:60:00",
                          "2025-02-29_12:00:00", "2026-04-31_12:00:00", "2026-00-10_12:00:00", "2026-11-00_12:00:00"})
    EXPECT_FALSE(is_timestamp_name(bad)) << bad;
}

TEST(Timestamp, OrderOfNamesIsOrderOfTime) {
  // Sorting names as strings (as every listing of DEST does) sorts them by time, across
  // seconds, days, months and years.
  const std::vector<std::string> names = {"2026-11-20_02:00:00", "2026-11-20_02:00:01", "2026-11-20_23:59:59",
                                          "2026-11-21_00:00:00", "2026-12-31_23:59:59", "2027-01-01_00:00:00"};
  for (size_t i = 1; i < names.size(); ++i) {
    ASSERT_LT(names[i - 1], names[i]);
    EXPECT_LT(*parse_timestamp(names[i - 1]), *parse_timestamp(names[i])) << names[i - 1] << " < " << names[i];
  }
  EXPECT_EQ(format_timestamp(*parse_timestamp("2026-11-20_02:00:01")), "2026-11-20_02:00:01");
}

TEST(Timestamp, RepeatedDstHourReadsAsItsFirstPassWhateverWasParsedBefore) {
  TimeZone zone("Europe/Berlin");
  // 2026-10-25 03:00 CEST (01:00 UTC) becomes 02:00 CET: 02:30 is 00:30 UTC and 01:30 UTC.
  const std::time_t first_pass = 1792888200;  // 2026-10-25 00:30:00 UTC
  for (const char* before : {"2026-07-01_12:00:00", "2026-01-01_12:00:00", "2026-10-25_03:30:00", "2026-10-25_01:30:00"}) {
    ASSERT_TRUE(parse_timestamp(before));
    EXPECT_EQ(parse_timestamp("2026-10-25_02:30:00"), first_pass) << "after parsing " << before;
  }
  EXPECT_EQ(format_timestamp(first_pass), "2026-10-25_02:30:00");
  EXPECT_EQ(format_timestamp(first_pass + 3600), "2026-10-25_02:30:00");
}

TEST(Timestamp, OrderOfNamesIsOrderOfTimeThroughDstChanges) {
  TimeZone zone("Europe/Berlin");
  for (const char* day : {"2026-10-25", "2026-03-29"}) {
    std::vector<std::string> names;
    for (int minute = 0; minute < 5 * 60; minute += 7) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s_%02d:%02d:00", day, minute / 60, minute % 60);
      names.emplace_back(buf);
    }
    std::vector<std::string> shuffled = names;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
    std::map<std::string, std::time_t> times;
    for (const auto& name : shuffled) {
      const auto t = parse_timestamp(name);
      ASSERT_TRUE(t) << name;  // names of the skipped hour are accepted too
      times[name] = *t;
    }
    for (std::size_t i = 1; i < names.size(); ++i) {
      if (names[i].substr(11, 2) == "02" && std::string(day) == "2026-03-29") continue;  // never shown on the clock
      if (names[i - 1].substr(11, 2) == "02" && std::string(day) == "2026-03-29") continue;
      EXPECT_LT(times[names[i - 1]], times[names[i]]) << names[i - 1] << " " << names[i];
    }
  }
}

TEST(Timestamp, SkippedDstHourIsReadWithTheOffsetFromBeforeTheJump) {
  TimeZone zone("Europe/Berlin");
  // 2026-03-29 02:00 CET (01:00 UTC) becomes 03:00 CEST: "02:30" never showed; as CET it is 03:30 CEST.
  EXPECT_EQ(parse_timestamp("2026-03-29_02:30:00"), parse_timestamp("2026-03-29_03:30:00"));
}

TEST(Timestamp, LocalTimeNormalisesTheCalendar) {
  TimeZone zone("UTC");
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 2;
  t.tm_mday = 0;  // the last day of February
  t.tm_hour = 12;
  EXPECT_EQ(format_timestamp(local_time(t)), "2026-02-28_12:00:00");
  t.tm_mon = -1;  // December of the year before
  t.tm_mday = 31;
  EXPECT_EQ(format_timestamp(local_time(t)), "2025-12-31_12:00:00");
  t.tm_isdst = 1;  // ignored
  EXPECT_EQ(format_timestamp(local_time(t)), "2025-12-31_12:00:00");
}
