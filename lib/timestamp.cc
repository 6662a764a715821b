#include "timestamp.h"

#include <cstdlib>
#include <cstring>

namespace bkp {

void init_local_time() {
  ::setenv("TZ", ":/etc/localtime", 0);  // keeps a TZ the user set
  ::tzset();
}

std::string format_timestamp(std::time_t when) {
  std::tm local{};
  localtime_r(&when, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, kTimestampFormat, &local);
  return buf;
}

std::optional<std::time_t> parse_timestamp(std::string_view name) {
  // Exactly "YYYY-MM-DD_HH:MM:SS": 19 characters, digits where digits belong.
  static constexpr std::string_view shape = "dddd-dd-dd_dd:dd:dd";
  if (name.size() != shape.size()) return std::nullopt;
  for (size_t i = 0; i < shape.size(); ++i) {
    const bool digit = name[i] >= '0' && name[i] <= '9';
    if (shape[i] == 'd' ? !digit : name[i] != shape[i]) return std::nullopt;
  }
  std::tm parts{};
  const std::string text(name);
  const char* end = strptime(text.c_str(), kTimestampFormat, &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::tm check = parts;
  check.tm_isdst = -1;
  const std::time_t when = std::mktime(&check);
  if (when == -1) return std::nullopt;
  // Reject dates mktime had to normalise (Feb 30, 25:00:00, ...).
  if (check.tm_mday != parts.tm_mday || check.tm_mon != parts.tm_mon ||
      check.tm_year != parts.tm_year || check.tm_min != parts.tm_min || check.tm_sec != parts.tm_sec)
    return std::nullopt;
  return when;
}

}  // namespace bkp
