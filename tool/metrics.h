// --metrics-file FILE: after every backup run (refused ones included, dry runs not) FILE is
// rewritten atomically in Prometheus' text exposition format, for node_exporter's textfile
// collector: bkp_* gauges labelled destination="DEST" (and job="NAME" under `bkp run`).
// Several jobs may share one file: each run replaces the samples with its own labels and
// keeps the others (under an flock of FILE's directory, so parallel jobs lose nothing).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "backup.h"

namespace bkp {

struct RunMetrics {
  std::string destination;
  std::string job;                    // empty: no job label
  std::time_t ended = 0;              // when the run ended
  bool success = false;               // it made a complete snapshot (exit 0 or 3)
  std::time_t last_success = 0;       // 0: no complete snapshot known
  int exit_code = 0;
  double seconds = 0;
  std::uint64_t transferred_bytes = 0;
  std::uint64_t transferred_files = 0;
  std::uint64_t added_bytes = 0;
  std::size_t snapshots = 0;          // complete snapshots in DEST after the run
};

// `destination="...",job="..."` with the values escaped as the exposition format says
// (backslash, double quote, newline; bytes that are not UTF-8 become U+FFFD).
std::string metric_labels(std::string_view destination, std::string_view job);

// The new text of the file: HELP and TYPE of every bkp gauge, the samples of `run`, and
// every sample of `previous` (the file as it was) with other labels, in their place.
std::string render_metrics(const RunMetrics& run, std::string_view previous);

// The value of the sample `name{labels}` in `previous`, if it has one.
std::optional<double> previous_sample(std::string_view previous, std::string_view name, std::string_view labels);

// What a run writes to FILE: its report, DEST's complete snapshots, and the last success
// (now, or else the newer of the file's previous value and the journal's newest complete
// snapshot). Never throws: a file that cannot be written is one error line in the log and
// does not change the run's exit status.
void write_metrics_file(const std::string& file, const BackupReport& report);

}  // namespace bkp
