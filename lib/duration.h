// Durations as `bkp prune --keep-within` and `bkp status --max-age` take them:
// "1y2m10d12h", "36h", "2d". Years, months and days are counted on the local calendar,
// the hours as 3600 s each.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace bkp {

// A duration: calendar years, months, days and hours, each >= 0.
struct CalendarDuration {
  int years = 0, months = 0, days = 0, hours = 0;

  bool zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  // "1y2m10d12h", leaving out the zero parts ("" when zero).
  std::string text() const;
  // `from` moved back by this duration: years, months and days on the local calendar
  // (normalised like AddDate, resolved like local_time()), then the hours as seconds.
  std::time_t before(std::time_t from) const;
};

// Parses "1y2m10d12h": numbers each followed by a unit y, m, d or h, in any order, each unit
// at most once, no signs, no spaces. Throws UsageError naming `option` and the value when it
// is empty, malformed or out of range (a part above 1,000,000).
CalendarDuration parse_calendar_duration(std::string_view text, std::string_view option = "--keep-within");

// A whole number of at most `max`, all of `text` decimal digits; nullopt otherwise.
std::optional<int> parse_whole_number(std::string_view text, int max);

// An age for people: "42s", "5m 3s", "5h 3m", "3d 2h" (the two largest units).
std::string format_age(std::time_t seconds);

}  // namespace bkp
