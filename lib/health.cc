#include "health.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "journal.h"
#include "timestamp.h"

namespace bkp {
namespace {

std::string key_or(const std::map<std::string, std::string>& keys, const std::string& key) {
  const auto it = keys.find(key);
  return it == keys.end() ? std::string() : it->second;
}

std::optional<int> number_of(const std::string& text) {
  int value = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

LastRun record_of(const Snapshot& snap, RunOutcome outcome, const std::string& reason_key) {
  return {snap.name, snap.series, outcome, key_or(snap.journal, reason_key), number_of(key_or(snap.journal, "rsync_exit")),
          key_or(snap.journal, "finished")};
}

// Every run the journals record, the newest last (a record of a failed run wins a tie).
std::vector<LastRun> recorded_runs(const Destination& dest, const std::vector<ActiveRun>& active,
                                   const HealthLimits& limits) {
  std::vector<LastRun> runs;
  for (const Series& series : dest.series)
    for (const Snapshot& snap : series.snapshots) {
      if (snap.complete) runs.push_back(record_of(snap, RunOutcome::complete, "warning"));
      else if (snap.failed) runs.push_back(record_of(snap, RunOutcome::failed, "reason"));
    }
  for (const ActiveRun& run : active) {
    const std::string name = key_or(run.keys, "timestamp");
    if (!is_timestamp_name(name)) continue;
    const bool failed = lower(key_or(run.keys, "status")) == kStatusFailed;
    // Only a run of the current series can still be going.
    const bool going = !failed && limits.lock_holder && run.series == kCurrentSeries;
    runs.push_back({name, run.series, failed ? RunOutcome::failed : going ? RunOutcome::running : RunOutcome::interrupted,
                    key_or(run.keys, "reason"), number_of(key_or(run.keys, "rsync_exit")), ""});
  }
  std::stable_sort(runs.begin(), runs.end(), [](const LastRun& a, const LastRun& b) {
    if (a.snapshot != b.snapshot) return a.snapshot < b.snapshot;
    return a.outcome == RunOutcome::complete && b.outcome != RunOutcome::complete;
  });
  return runs;
}

std::string problem_of(const LastRun& run) {
  const std::string which = "the last run (snapshot " + run.snapshot + ")";
  if (run.outcome == RunOutcome::failed) {
    std::string why = !run.reason.empty() ? run.reason
                      : run.rsync_exit    ? "rsync exit status " + std::to_string(*run.rsync_exit)
                                          : "the journal records status = failed";
    return which + " failed: " + why + "; the snapshot is left partial";
  }
  return which + " was interrupted before it completed; the snapshot is left partial";
}

}  // namespace

const char* outcome_name(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::complete: return "complete";
    case RunOutcome::failed: return "failed";
    case RunOutcome::interrupted: return "interrupted";
    case RunOutcome::running: return "running";
  }
  return "unknown";
}

std::vector<ActiveRun> read_active_runs(const Destination& dest) {
  std::vector<ActiveRun> out;
  for (const Series& series : dest.series) {
    Journal journal;
    try {
      journal = Journal::read(series.path);
    } catch (const std::system_error&) {
      continue;
    }
    if (const IniSection* active = journal.section(kActiveSection)) {
      ActiveRun run{series.folder, {}};
      for (const auto& [key, value] : active->entries()) run.keys[key] = value;
      out.push_back(std::move(run));
    }
  }
  return out;
}

Health assess_health(const Destination& dest, const std::vector<ActiveRun>& active, const HealthLimits& limits) {
  Health h;
  const auto complete = dest.complete_snapshots();
  h.complete_snapshots = complete.size();
  h.newest = complete.empty() ? nullptr : complete.back();
  // Runs that start within one second take the next free second for their names, so the
  // newest name may be a few seconds ahead of the clock: that is age 0, not the future.
  constexpr std::time_t kNameSlack = 60;
  if (h.newest) h.age = limits.now - h.newest->time;
  if (h.age < 0 && h.age >= -kNameSlack) h.age = 0;
  const auto runs = recorded_runs(dest, active, limits);
  if (!runs.empty()) h.last_run = runs.back();
  for (const Series& series : dest.series)
    for (const Snapshot& snap : series.snapshots)
      if ((snap.partial || snap.failed) && (!h.newest || snap.name > h.newest->name)) h.newer_partials.push_back(&snap);
  std::sort(h.newer_partials.begin(), h.newer_partials.end(),
            [](const Snapshot* a, const Snapshot* b) { return a->name < b->name; });

  std::vector<std::string> current_faults;
  for (const Series& series : dest.series) {
    const auto faults = series.faults();
    if (series.is_current()) current_faults = faults;
    else h.warnings.insert(h.warnings.end(), faults.begin(), faults.end());
  }
  const bool last_went_wrong =
      h.last_run && (h.last_run->outcome == RunOutcome::failed || h.last_run->outcome == RunOutcome::interrupted);
  if (last_went_wrong) {
    h.problem = problem_of(*h.last_run);
  } else if (!h.newest) {
    h.problem = "no complete snapshot in " + dest.root.string();
  } else if (!current_faults.empty()) {
    h.problem = current_faults.front() + "; the next run will refuse: see bkp repair";
  } else if (limits.max_age && h.newest->time < limits.max_age->before(limits.now)) {
    h.problem = "the newest complete snapshot " + h.newest->name + " is " + format_age(h.age) + " old, older than --max-age " +
                limits.max_age->text();
  }
  if (!h.newest && last_went_wrong) h.problem = "no complete snapshot, and " + h.problem;
  h.healthy = h.problem.empty();
  return h;
}

}  // namespace bkp
