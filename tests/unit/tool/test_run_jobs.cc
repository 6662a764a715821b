#include <gtest/gtest.h>

#include "run_jobs.h"

using namespace bkp;
using nlohmann::json;

TEST(RunJobs, OneSummaryLinePerJob) {
  EXPECT_EQ(job_summary_line({{"job", "web1"}, {"status", "complete"}, {"exit_code", 0}, {"kind", "incremental"},
                              {"snapshot", "2026-12-01_02:00:00"}, {"seconds", 12.34}, {"bytes", 3 << 20}}),
            "job web1: complete, snapshot 2026-12-01_02:00:00 (incremental), 12.3 s, 3.0 MiB transferred");
  EXPECT_EQ(job_summary_line({{"job", "web1"}, {"status", "complete"}, {"exit_code", 3}, {"kind", "full"},
                              {"snapshot", "2026-12-01_02:00:00"}, {"seconds", 1.0}, {"bytes", 10},
                              {"message", "some files could not be read"}}),
            "job web1: complete (exit 3), snapshot 2026-12-01_02:00:00 (full), 1.0 s, 10 B transferred: some files "
            "could not be read");
  EXPECT_EQ(job_summary_line({{"job", "db"}, {"status", "refused"}, {"exit_code", 1}, {"seconds", 0.25},
                              {"snapshot", ""}, {"message", "source db:/srv: cannot list it on db: ssh: connect to host db port 22: Connection refused"}}),
            "job db: refused (exit 1), 0.2 s: source db:/srv: cannot list it on db: ssh: connect to host db port 22: Connection refused");
  EXPECT_EQ(job_summary_line({{"job", "db"}, {"status", "failed"}, {"exit_code", 1}, {"seconds", 3.0},
                              {"snapshot", "2026-12-01_02:00:00"}, {"message", "rsync failed"}}),
            "job db: failed (exit 1), snapshot 2026-12-01_02:00:00 left partial, 3.0 s: rsync failed");
  EXPECT_EQ(job_summary_line({{"job", "x"}, {"status", "crashed"}, {"exit_code", 137}, {"seconds", 2.0},
                              {"message", "killed by signal 9"}}),
            "job x: crashed (exit 137), 2.0 s: killed by signal 9");
  EXPECT_EQ(job_summary_line({{"job", "y"}, {"status", "not started"}, {"exit_code", 1},
                              {"message", "bkp run was stopped before this job started"}}),
            "job y: not started: bkp run was stopped before this job started");
  EXPECT_EQ(job_summary_line({{"job", "z"}, {"status", "refused"}, {"exit_code", 2}, {"message", "job file f: bad"}}),
            "job z: refused (exit 2): job file f: bad");
}
