#include "human_units.h"

#include <cstdio>

namespace bkp {

std::string human_bytes(uint64_t bytes, bool compact) {
  static const char* const long_units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  static const char* const short_units[] = {"B", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f%s%s" : "%.1f%s%s", value, compact ? "" : " ",
                (compact ? short_units : long_units)[unit]);
  return buf;
}

}  // namespace bkp
