// Durations written the way `bkp prune --keep-within` takes them: "1y2m10d12h", "36h",
// "2d". Used by `bkp status --max-age`. Years, months and days are counted on the local
// calendar (a month before 31 March is "31 February", i.e. 3 March, as mktime normalises
// it), the hours as 3600 s each.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace bkp {

struct Duration {
  int years = 0, months = 0, days = 0, hours = 0;

  bool zero() const { return years == 0 && months == 0 && days == 0 && hours == 0; }
  // "1y2m10d12h", leaving out the zero parts ("0h" when zero).
  std::string text() const;
  // `from` moved back by this duration on the local calendar.
  std::time_t before(std::time_t from) const;
};

// Numbers each followed by a unit y, m, d or h, in any order, each unit at most once, no
// signs or spaces, each number at most 1,000,000. Throws UsageError naming `option` and
// the value otherwise.
Duration parse_duration(std::string_view text, std::string_view option);

// An age for people: "42s", "5m 3s", "5h 3m", "3d 2h" (the two largest units).
std::string format_age(std::time_t seconds);

}  // namespace bkp
