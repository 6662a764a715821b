// How a destination stands, for `bkp status` and monitoring: the newest complete snapshot,
// the outcome of the last run as the journal records it, and whether that is healthy.
//
// The last run is the newest (by snapshot name) of these records:
//   - a complete snapshot's section: the run completed (rsync_exit 23 still counts as
//     complete: the snapshot is kept, without the files that could not be read);
//   - an [ACTIVE] section of any series: status = failed is a failed run (bkp records
//     `reason` and `rsync_exit`), status = partial a run that is still going when a live
//     process holds the lock, else one that was interrupted (killed, crashed, power loss);
//   - a snapshot's own section with status = failed or partial (the original bkp.py's
//     record of a failed run).
// A refused run writes nothing, so it never changes the status.
//
// Healthy means: there is a complete snapshot, the last run did not fail and was not
// interrupted, the current series holds nothing that makes the next run refuse
// (Series::faults: a damaged journal, folders it does not account for), and the newest
// complete snapshot is not older than the limit, if one is given. A run in progress is not
// a problem by itself; a stuck one shows as the newest snapshot growing old.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "duration.h"
#include "store.h"

namespace bkp {

// An [ACTIVE] section of one series' journal.
struct ActiveRun {
  std::string series;                       // its series folder
  std::map<std::string, std::string> keys;  // timestamp, status, reason, rsync_exit, ...
};

// The [ACTIVE] sections of every series of `dest` (reads each cfg.ini again; a journal
// that cannot be read is already one of the series' problems).
std::vector<ActiveRun> read_active_runs(const Destination& dest);

enum class RunOutcome { complete, failed, interrupted, running };
const char* outcome_name(RunOutcome outcome);  // "complete", "failed", ...

struct LastRun {
  std::string snapshot;        // the snapshot it made or was making
  std::string series;
  RunOutcome outcome = RunOutcome::complete;
  std::string reason;          // why it failed, or the warning of a complete run
  std::optional<int> rsync_exit;
  std::string finished;        // `finished` key of a complete run
};

struct HealthLimits {
  std::time_t now = 0;
  std::optional<CalendarDuration> max_age;   // the newest complete snapshot must not be older
  std::optional<pid_t> lock_holder;  // a live process holds DEST's lock
};

struct Health {
  bool healthy = false;
  std::string problem;                        // one line: why not healthy
  const Snapshot* newest = nullptr;           // the newest complete snapshot (points into dest)
  std::time_t age = 0;                        // of `newest`, from its name (the run's start)
  std::size_t complete_snapshots = 0;
  std::optional<LastRun> last_run;
  std::vector<const Snapshot*> newer_partials;  // partial or failed snapshots newer than `newest`
  std::vector<std::string> warnings;            // faults of older series (runs only warn about them)
};

// Pure (but for the local time zone of the calendar): decides from what was read. The pointers in the result point into `dest`.
Health assess_health(const Destination& dest, const std::vector<ActiveRun>& active, const HealthLimits& limits);

}  // namespace bkp
