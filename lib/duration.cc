#include "duration.h"

#include <limits>

#include "errors.h"

namespace bkp {
namespace {

constexpr int kMaxPart = 1'000'000;

}  // namespace

std::string Duration::text() const {
  std::string out;
  const auto add = [&](int value, char unit) {
    if (value != 0) out += std::to_string(value) + unit;
  };
  add(years, 'y');
  add(months, 'm');
  add(days, 'd');
  add(hours, 'h');
  return out.empty() ? "0h" : out;
}

std::time_t Duration::before(std::time_t from) const {
  std::tm local{};
  localtime_r(&from, &local);
  local.tm_year -= years;
  local.tm_mon -= months;
  local.tm_mday -= days;
  local.tm_isdst = -1;
  const std::time_t day = std::mktime(&local);
  // Beyond what mktime can represent: longer ago than anything a destination holds.
  if (day == -1 && (years != 0 || months != 0 || days != 0)) return std::numeric_limits<std::time_t>::min();
  return (day == -1 ? from : day) - static_cast<std::time_t>(hours) * 3600;
}

Duration parse_duration(std::string_view text, std::string_view option) {
  const auto refuse = [&](const std::string& why) {
    return UsageError(std::string(option) + ": '" + std::string(text) + "' is not a duration (" + why + ")");
  };
  if (text.empty()) throw refuse("empty; e.g. 36h, 2d or 1y2m10d12h");
  Duration d;
  std::string seen;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = pos;
    long value = 0;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') {
      value = value * 10 + (text[end] - '0');
      if (value > kMaxPart) throw refuse("each number at most " + std::to_string(kMaxPart));
      ++end;
    }
    if (end == pos || end == text.size()) throw refuse("numbers each followed by y, m, d or h, e.g. 36h or 1y2m10d12h");
    const char unit = text[end];
    int* part = unit == 'y' ? &d.years : unit == 'm' ? &d.months : unit == 'd' ? &d.days : unit == 'h' ? &d.hours : nullptr;
    if (part == nullptr) throw refuse("units are y, m, d and h");
    if (seen.find(unit) != std::string::npos) throw refuse(std::string("unit ") + unit + " given twice");
    seen += unit;
    *part = static_cast<int>(value);
    pos = end + 1;
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
