#include <gtest/gtest.h>

#include "timestamp.h"

using namespace bkp;

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
                          "2026-11-20_02:00:0a", "+026-11-20_02:00:00"})
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
