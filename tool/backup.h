// One bkp run: checks, lock, series rotation, rsync, journal. See bkp(1) for the layout.
#pragma once

#include "backup_options.h"

namespace bkp {

// The default command: `bkp -s SRC... -d DEST [-i] ...`.
int backup_command(int argc, const char* const argv[]);

// Returns the exit code (kExitOk or kExitUnreadable); throws Failure on refusal or failure.
int run_backup(const BackupOptions& options);

}  // namespace bkp
