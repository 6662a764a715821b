// Runs rsync as a child process (child_process.h: argument vector, no shell, stdin from
// /dev/null so a password prompt can never hang a scheduled run), streams its output, and
// maps its exit status and error lines to what bkp does with the snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "content_hash.h"

namespace bkp {

struct RsyncResult {
  int exit_code = 0;          // rsync's status, or 128+signal if it was killed
  uint64_t files = 0;         // "Number of regular files transferred"
  uint64_t bytes = 0;         // "Total transferred file size"
  uint64_t total_files = 0;   // "Number of files"
  // From rsync's error lines (stderr): failures on the receiving side (writing DEST:
  // ENOSPC, EDQUOT, EIO, ...), source entries it could not read, paths it cannot handle.
  uint64_t destination_errors = 0;
  uint64_t source_errors = 0;
  uint64_t paths_too_long = 0;
  std::string first_destination_error;
  // The last stderr line that is not rsync's own ("rsync: ...", "rsync error: ..."): what
  // ssh (or a forced command such as rrsync) said about a remote source.
  std::string last_shell_message;
  // With RsyncPlan::report_checksums: the checksum of each file rsync wrote, by its path in
  // the snapshot (as the checksum record names it).
  std::unordered_map<std::string, Checksum> written_checksums;
};

enum class RsyncOutcome {
  complete,             // 0
  complete_vanished,    // 24: files vanished while copying; the snapshot is still good
  complete_unreadable,  // 23 from reading the source only: kept, but bkp exits non-zero
  failed,               // anything else, or 23 with a failed write in DEST: the snapshot stays partial
};

RsyncOutcome classify_rsync_exit(int exit_code);
// The exit status together with what the error lines said.
RsyncOutcome classify_rsync_result(const RsyncResult& result);

enum class RsyncErrorSide { none, source, destination, path_too_long };
// Which side an rsync stderr line blames: "[sender]" lines read the source, "[receiver]"
// and "[generator]" lines write DEST, and an untagged line with the errno of a full,
// failing or read-only disk (ENOSPC, EDQUOT, EIO, EROFS) is a DEST failure too.
RsyncErrorSide classify_rsync_error_line(const std::string& line);

// Runs argv[0] (looked up in PATH) and waits. When `progress_to_terminal` is set, rsync's
// progress lines are copied to stderr; its error lines are logged as warnings.
// SIGINT/SIGTERM received meanwhile are passed on. Throws Failure if rsync cannot start.
RsyncResult run_rsync(const std::vector<std::string>& argv, bool progress_to_terminal);

// The rsync --stats lines this parses, exposed for unit tests.
void parse_rsync_stats_line(const std::string& line, RsyncResult& result);
// A kChecksumLinePrefix line, into written_checksums; false for any other line. Lines of
// entries rsync wrote no data for (directories, links, hard links: blanks for %C) are
// passed over, and so are paths with a backslash, which rsync may have escaped (\#ooo):
// those files are read for their checksum instead.
bool parse_rsync_checksum_line(const std::string& line, RsyncResult& result);

}  // namespace bkp
