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

namespace {

long utc_offset_at(std::time_t when) {
  std::tm local{};
  localtime_r(&when, &local);
  return local.tm_gmtoff;
}

}  // namespace

std::time_t local_time(std::tm fields) {
  // The reading as if it were UTC; the answer is that minus the offset in force then. The
  // offsets a day before and after are the only candidates (DST changes are months apart).
  const std::time_t reading = timegm(&fields);
  const long before = utc_offset_at(reading - 86400), after = utc_offset_at(reading + 86400);
  std::optional<std::time_t> earliest;
  for (const long offset : {before, after}) {
    const std::time_t when = reading - offset;
    if (utc_offset_at(when) == offset && (!earliest || when < *earliest)) earliest = when;
  }
  return earliest ? *earliest : reading - before;  // a skipped reading: the clock not yet moved
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
  // Reject readings the calendar has to normalise (Feb 30, second 60, ...).
  std::tm check = parts;
  timegm(&check);
  if (check.tm_year != parts.tm_year || check.tm_mon != parts.tm_mon || check.tm_mday != parts.tm_mday ||
      check.tm_hour != parts.tm_hour || check.tm_min != parts.tm_min || check.tm_sec != parts.tm_sec)
    return std::nullopt;
  return local_time(parts);
}

}  // namespace bkp
