// One bkp run: checks, lock, series rotation, rsync, journal. See bkp(1) for the layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup_options.h"
#include "errors.h"

namespace bkp {

// The default command: `bkp -s SRC... -d DEST [-i] ...`.
int backup_command(int argc, const char* const argv[]);

// What one run did, for the summary line, --json, hooks, metrics and `bkp run`.
struct BackupReport {
  std::string destination;           // DEST, absolute
  std::string job;                   // the job's name under `bkp run`
  std::string snapshot;              // its name, once chosen
  std::string kind;                  // "full" or "incremental", once decided
  // "refused": nothing in DEST was changed; "failed": the snapshot is left partial;
  // "complete": the snapshot is complete (exit_code 3: without some unreadable files).
  std::string status = "refused";
  int exit_code = kExitFailure;
  std::string message;               // why it was refused or failed
  uint64_t files = 0;                // regular files transferred
  uint64_t bytes = 0;                // their bytes
  uint64_t total_files = 0;          // entries in the snapshot
  uint64_t space_added = 0;          // new data stored: bytes transferred less bytes shared (reflink)
  double seconds = 0;
  std::vector<std::string> pruned;   // snapshots the keep rules removed after the run
};

// Fills `report` as the run goes. Returns the exit code (kExitOk or kExitUnreadable);
// throws Failure on refusal or failure (report.status then says which).
int run_backup(const BackupOptions& options, BackupReport& report);

// "1.5 MiB": bytes for people.

// The one-line summary of a run, and the same as JSON.
std::string summary_line(const BackupReport& report);
std::string summary_json(const BackupReport& report);

}  // namespace bkp
