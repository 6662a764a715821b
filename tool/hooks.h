// --pre-exec and --post-exec: commands run with /bin/sh -c around a backup run (mount a
// disk, dump a database, notify someone). Their stdin is /dev/null and their stdout goes
// to bkp's stderr, so `--json` output stays clean.
//
//   pre-exec   runs before anything in DEST is touched, with BKP_DESTINATION and BKP_JOB;
//              if it fails the run is refused (exit 1) and DEST is left as it was.
//   post-exec  runs after every run that got past pre-exec (complete, failed, refused,
//              dry run) with BKP_STATUS, BKP_EXIT_CODE, BKP_SNAPSHOT, BKP_DESTINATION,
//              BKP_JOB and BKP_MESSAGE; its failure is logged as an error but changes
//              neither the snapshot nor bkp's exit status.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backup.h"

namespace bkp {

using HookEnvironment = std::vector<std::pair<std::string, std::string>>;

// "exit status 3", "killed by signal 9", "could not be started: ..."; empty when it succeeded.
struct HookResult {
  bool ok = false;
  std::string failure;
};

// Runs `command` through /bin/sh -c with `env` added to bkp's environment and waits for it.
HookResult run_hook(const std::string& command, const HookEnvironment& env);

// Runs --pre-exec (when given). Throws the refusal (Failure, exit 1) when it fails.
void run_pre_exec(const std::string& command, const BackupReport& report);

// Runs --post-exec (when given) with the run's outcome; logs its failure, never throws.
void run_post_exec(const std::string& command, const BackupReport& report);

// The environment --post-exec sees.
HookEnvironment post_exec_environment(const BackupReport& report);

}  // namespace bkp
