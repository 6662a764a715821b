// Snapshot names: local start time as %Y-%m-%d_%H:%M:%S, the format of the original bkp.py.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace bkp {

inline constexpr const char* kTimestampFormat = "%Y-%m-%d_%H:%M:%S";

// Call once at the start of main(), before any thread starts: pins the time zone so that
// converting thousands of snapshot names does not re-read /etc/localtime for each one
// (glibc's mktime re-checks it on every call when TZ is unset).
void init_local_time();

// Formats a point in time as a snapshot name, in local time.
std::string format_timestamp(std::time_t when);

// Parses a snapshot name back to a point in time; nullopt for anything that is not
// exactly a valid timestamp name (so stray folders in DEST are never taken for snapshots).
std::optional<std::time_t> parse_timestamp(std::string_view name);

inline bool is_timestamp_name(std::string_view name) { return parse_timestamp(name).has_value(); }

}  // namespace bkp
