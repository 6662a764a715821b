// bkp run [--jobs DIR] [NAME...] [--parallel N] [--json]: runs the backup jobs DIR/NAME.conf
// (all of them when none is named), each a backup run in the --config format.
//
// Each job runs as a child process of bkp itself (`bkp --config FILE --json`, named by a
// hidden --job-name, so every log line says bkp[NAME]:), so one job that fails or crashes
// never affects another; its --json summary feeds one summary line per job and
// `bkp run --json`. At most N run at once (job_schedule.h), never two on one destination.
// SIGINT/SIGTERM are passed on to the running jobs, and no other job starts.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace bkp {

int run_command(int argc, const char* const argv[]);

// One line for a job's summary (the JSON of `bkp --json`, with "job", "status",
// "exit_code", "snapshot", "kind", "bytes", "seconds", "message").
std::string job_summary_line(const nlohmann::json& summary);

}  // namespace bkp
