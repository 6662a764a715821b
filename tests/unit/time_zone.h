// A time zone for one test: sets TZ and puts the previous one back afterwards.
#pragma once

#include <time.h>

#include <cstdlib>
#include <string>

namespace bkptest {

class TimeZone {
 public:
  explicit TimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~TimeZone() {
    if (old_.empty()) ::unsetenv("TZ");
    else ::setenv("TZ", old_.c_str(), 1);
    ::tzset();
  }
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  std::string old_;
};

}  // namespace bkptest
