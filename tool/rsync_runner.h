// Runs rsync as a child process (argument vector, no shell), streams its output, and maps
// its exit status to what bkp does with the snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bkp {

struct RsyncResult {
  int exit_code = 0;          // rsync's status, or 128+signal if it was killed
  uint64_t files = 0;         // "Number of regular files transferred"
  uint64_t bytes = 0;         // "Total transferred file size"
  uint64_t total_files = 0;   // "Number of files"
};

enum class RsyncOutcome {
  complete,             // 0
  complete_vanished,    // 24: files vanished while copying; the snapshot is still good
  complete_unreadable,  // 23: some files could not be read; kept, but bkp exits non-zero
  failed,               // anything else: the snapshot stays partial
};

RsyncOutcome classify_rsync_exit(int exit_code);

// Runs argv[0] (looked up in PATH) and waits. When `progress_to_terminal` is set, rsync's
// progress lines are copied to stderr. SIGINT/SIGTERM received meanwhile are passed on.
// Throws Failure if rsync cannot be started.
RsyncResult run_rsync(const std::vector<std::string>& argv, bool progress_to_terminal);

// The rsync --stats lines this parses, exposed for unit tests.
void parse_rsync_stats_line(const std::string& line, RsyncResult& result);

}  // namespace bkp
