// One bkp run: checks, lock, series rotation, rsync, journal. See bkp(1) for the layout.
#pragma once

#include "options.h"

namespace bkp {

// Returns the exit code (kExitOk or kExitUnreadable); throws Failure on refusal or failure.
int run_backup(const BackupOptions& options);

}  // namespace bkp
