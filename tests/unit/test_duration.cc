// lib/duration: --max-age values in --keep-within's syntax, calendar arithmetic, ages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "duration.h"
#include "errors.h"
#include "timestamp.h"

using namespace bkp;

namespace {

// Local calendar arithmetic in a fixed zone with DST, restored afterwards.
class InZone : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_ = tz ? std::optional<std::string>(tz) : std::nullopt;
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_) ::setenv("TZ", saved_->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
  std::optional<std::string> saved_;
};

}  // namespace

TEST(Duration, ParsesEveryUnitInAnyOrder) {
  const CalendarDuration d = parse_calendar_duration("1y2m10d12h", "--max-age");
  EXPECT_EQ(d.years, 1);
  EXPECT_EQ(d.months, 2);
  EXPECT_EQ(d.days, 10);
  EXPECT_EQ(d.hours, 12);
  const CalendarDuration e = parse_calendar_duration("12h1y", "--max-age");
  EXPECT_EQ(e.years, 1);
  EXPECT_EQ(e.hours, 12);
  EXPECT_EQ(parse_calendar_duration("36h", "--max-age").hours, 36);
  EXPECT_EQ(parse_calendar_duration("2d", "--max-age").days, 2);
  EXPECT_EQ(parse_calendar_duration("1000000h", "--max-age").hours, 1000000);
}

TEST(Duration, RefusesAnythingElseNamingTheOption) {
  for (const char* bad : {"", "36", "h", "36 h", "-2d", "+2d", "2w", "1.5d", "2d2d", "1000001h", "99999999999999999999h", "d2"}) {
    try {
      parse_calendar_duration(bad, "--max-age");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--max-age: '" + std::string(bad) + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(Duration, TextLeavesOutZeroParts) {
  EXPECT_EQ(parse_calendar_duration("12h1y", "x").text(), "1y12h");
  EXPECT_EQ(parse_calendar_duration("0d", "x").text(), "");
  EXPECT_TRUE(parse_calendar_duration("0d0h", "x").zero());
  EXPECT_FALSE(parse_calendar_duration("1h", "x").zero());
}

TEST_F(InZone, HoursAreSecondsAndDaysAreCalendarDays) {
  const std::time_t noon = *parse_timestamp("2026-11-20_12:00:00");
  EXPECT_EQ(parse_calendar_duration("36h", "x").before(noon), noon - 36 * 3600);
  EXPECT_EQ(format_timestamp(parse_calendar_duration("2d", "x").before(noon)), "2026-11-18_12:00:00");
  // Across the end of summer time a day is 25 hours, and still one day on the calendar.
  const std::time_t after = *parse_timestamp("2026-10-25_12:00:00");
  EXPECT_EQ(format_timestamp(parse_calendar_duration("1d", "x").before(after)), "2026-10-24_12:00:00");
  EXPECT_EQ(after - parse_calendar_duration("1d", "x").before(after), 25 * 3600);
  EXPECT_EQ(format_timestamp(parse_calendar_duration("1m", "x").before(*parse_timestamp("2026-03-31_02:30:00"))).substr(0, 10),
            "2026-03-03");  // "31 February"
  EXPECT_EQ(format_timestamp(parse_calendar_duration("1y2m10d12h", "x").before(noon)), "2025-09-10_00:00:00");
}

TEST(Duration, AgesForPeople) {
  EXPECT_EQ(format_age(0), "0s");
  EXPECT_EQ(format_age(42), "42s");
  EXPECT_EQ(format_age(5 * 60 + 3), "5m 3s");
  EXPECT_EQ(format_age(5 * 3600 + 3 * 60 + 59), "5h 3m");
  EXPECT_EQ(format_age(3 * 86400 + 2 * 3600), "3d 2h");
  EXPECT_EQ(format_age(2 * 86400), "2d");
  EXPECT_EQ(format_age(-1), "in the future");
}
