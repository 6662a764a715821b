#include "duration.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "errors.h"
#include "timestamp.h"

namespace bkp {
namespace {

constexpr int kMaxDurationPart = 1'000'000;


}  // namespace

std::optional<int> parse_whole_number(std::string_view text, int max) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

std::string CalendarDuration::text() const {
  std::string out;
  const std::pair<int, char> parts[] = {{years, 'y'}, {months, 'm'}, {days, 'd'}, {hours, 'h'}};
  for (const auto& [value, unit] : parts)
    if (value != 0) out += std::to_string(value) + unit;
  return out;
}

std::time_t CalendarDuration::before(std::time_t from) const {
  std::tm t{};
  localtime_r(&from, &t);
  t.tm_year -= years;
  t.tm_mon -= months;
  t.tm_mday -= days;
  return local_time(t) - static_cast<std::time_t>(hours) * 3600;
}

CalendarDuration parse_calendar_duration(std::string_view text, std::string_view option) {
  const auto refuse = [&](const std::string& why) {
    return UsageError(std::string(option) + ": '" + std::string(text) + "' is not a duration (" + why + ")");
  };
  if (text.empty()) throw refuse("empty; e.g. 1y2m10d12h");
  CalendarDuration d;
  std::string seen;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t unit_at = text.find_first_not_of("0123456789", pos);
    if (unit_at == pos || unit_at == std::string_view::npos)
      throw refuse("numbers each followed by y, m, d or h, e.g. 1y2m10d12h");
    const auto value = parse_whole_number(text.substr(pos, unit_at - pos), kMaxDurationPart);
    if (!value) throw refuse("each number at most " + std::to_string(kMaxDurationPart));
    const char unit = text[unit_at];
    int* part = unit == 'y' ? &d.years : unit == 'm' ? &d.months : unit == 'd' ? &d.days : unit == 'h' ? &d.hours : nullptr;
    if (part == nullptr) throw refuse("units are y, m, d and h");
    if (seen.find(unit) != std::string::npos) throw refuse(std::string("unit ") + unit + " given twice");
    seen += unit;
    *part = *value;
    pos = unit_at + 1;
  }
  return d;
}

std::string format_age(std::time_t seconds) {
  if (seconds < 0) return "in the future";
  const std::time_t units[] = {86400, 3600, 60, 1};
  const char* names[] = {"d", "h", "m", "s"};
  for (int i = 0; i < 3; ++i) {
    if (seconds < units[i]) continue;
    const std::time_t big = seconds / units[i], small = seconds % units[i] / units[i + 1];
    return std::to_string(big) + names[i] + (small != 0 ? " " + std::to_string(small) + names[i + 1] : "");
  }
  return std::to_string(seconds) + "s";
}

}  // namespace bkp
