// Which snapshots a retention policy keeps: the semantics of restic's `forget --keep-*`
// (internal/data/snapshot_policy.go, ApplyPolicy), as a pure function of the snapshot list,
// the rules and the current time. `bkp prune` and the keep rules of a backup run call it,
// print its reasons (--dry-run, --json), and remove what it does not keep.
//
// The rules, applied to one timeline of all complete snapshots, newest first:
//  - --keep-last N keeps the N newest snapshots.
//  - --keep-hourly/daily/weekly/monthly/yearly N each keep the newest snapshot of each of the
//    N most recent periods that hold a snapshot: periods without snapshots do not count, so
//    `--keep-daily 7` with weekly backups keeps seven weeks. Periods are local calendar hours,
//    days, ISO-8601 weeks (Monday to Sunday, numbered within the ISO year: 2026-12-31 and
//    2027-01-01 are both in week 53 of 2026), months and years, of the snapshot's time as
//    localtime_r() gives it.
//  - As in restic (since 0.17), a calendar rule that still has periods left when it reaches
//    the oldest snapshot also keeps that one, even if its period already has a kept newer
//    snapshot ("oldest daily #4"): a history shorter than the rule asks for is kept from its
//    beginning.
//  - --keep-within D keeps every snapshot newer than (strictly after) the newest snapshot's
//    time minus D. D is years, months, days, hours ("1y2m10d12h"), subtracted on the local
//    calendar the way restic's Time.AddDate does (1m before 31 March is "31 February", that
//    is 3 March), then the hours as 3600 s each. As in restic, "the newest snapshot" here
//    is the newest one not in the future (at or before `now`); when every snapshot is in
//    the future, the rule keeps them all.
//  - A snapshot is kept when any rule keeps it. Pinned snapshots are kept, and the newest
//    snapshot (the base of the next increment) is kept, whatever the rules say. A pinned
//    snapshot still takes its place in the periods (like restic's --keep-tag), so pinning
//    never makes the rules keep more.
//  - A count of kKeepUnlimited (the option value "unlimited") keeps every period; a count of
//    0 or a zero duration turns the rule off. With no rule at all only the newest and the
//    pinned snapshots would be kept: `bkp prune` refuses that (RetentionRules::empty()).
//
// Names are local time without an offset, so the names of the hour a DST fall-back repeats
// are ambiguous. parse_timestamp() reads every such name as the first of its two moments,
// the same for every call, so the order of names is the order of their times and the
// timeline never depends on parse order. The calendar rules do not depend on that choice
// (both moments are in the same local hour, day, week, ...); only --keep-within's edge and
// the order of two snapshots taken in the repeated hour may differ from the real moments,
// by at most the hour: both are then ordered by their names. Snapshots with equal times
// (which distinct timestamp names never have) are ordered by name, the greater first.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "duration.h"

namespace bkp {

inline constexpr int kKeepUnlimited = -1;

// Parses the N of --keep-last/hourly/daily/weekly/monthly/yearly: a whole number >= 0 (at
// most 1,000,000,000) or "unlimited" (kKeepUnlimited). Throws UsageError naming `option`
// and the value otherwise (negative, empty, not a number, too large).
int parse_keep_count(std::string_view text, std::string_view option);

struct RetentionRules {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;  // 0: off
  CalendarDuration within;  // zero: off

  // No rule set: `bkp prune` refuses to run.
  bool empty() const {
    return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && within.zero();
  }
};

struct RetentionSnapshot {
  std::string name;      // the timestamp name (what the reasons are printed for)
  std::time_t time = 0;  // parse_timestamp(name)
  bool pinned = false;
};

enum class KeepRule { last, hourly, daily, weekly, monthly, yearly, within, pinned, newest };

// Why a snapshot is kept.
struct KeepReason {
  KeepRule rule;
  // last..yearly: this snapshot is the rank-th that the rule keeps, 1 for the newest.
  unsigned rank = 0;
  // last..yearly: kept as the oldest snapshot while the rule had periods left (see above).
  bool oldest = false;
  // "last #1", "daily #3", "oldest monthly #5", "within 1y2m", "pinned", "newest".
  std::string text;
};

// "last", "hourly", ..., "newest": the rule's name, e.g. for JSON.
std::string_view rule_name(KeepRule rule);

struct RetentionDecision {
  RetentionSnapshot snapshot;
  std::size_t input_index = 0;  // its position in the list given to apply_retention()
  bool keep = false;
  std::vector<KeepReason> reasons;  // in KeepRule order; empty exactly when !keep

  // The reasons' texts joined by ", " ("daily #3, weekly #1"); "" when removed.
  std::string reasons_text() const;
};

// One decision per snapshot, newest first (by time, then by name). `snapshots` are all the
// complete snapshots of a destination, in any order; `now` is the current time (only
// --keep-within looks at it, see above). Pure: no clock, no file system; uses the local
// time zone through localtime_r().
std::vector<RetentionDecision> apply_retention(const std::vector<RetentionSnapshot>& snapshots,
                                               const RetentionRules& rules, std::time_t now);

}  // namespace bkp
