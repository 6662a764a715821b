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
// Names are local time without an offset, so a name in the hour a DST change repeats is
// ambiguous: it is read as the first of the two moments (see local_time), the same for
// every call, so that the order of names stays the order of their times.
std::optional<std::time_t> parse_timestamp(std::string_view name);

// The point in time a local wall-clock reading stands for. The fields are normalised on
// the calendar first (day 0 is the last day of the previous month, month -1 is December
// of the year before, ...); tm_isdst, tm_wday and tm_yday are ignored. A reading the
// clock showed twice (a DST fall-back hour) gives the earlier moment; one it never showed
// (skipped by a spring-forward jump) is read with the offset from before the jump. Unlike
// a bare mktime(), whose choice depends on its previous calls, the result is always the same.
std::time_t local_time(std::tm fields);

inline bool is_timestamp_name(std::string_view name) { return parse_timestamp(name).has_value(); }

}  // namespace bkp
