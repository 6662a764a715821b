#include <gtest/gtest.h>

#include "errors.h"
#include "rsync_command.h"
#include "rsync_runner.h"

using namespace bkp;

TEST(RsyncRunner, ExitCodesDecideTheSnapshot) {
  EXPECT_EQ(classify_rsync_exit(0), RsyncOutcome::complete);
  EXPECT_EQ(classify_rsync_exit(24), RsyncOutcome::complete_vanished);
  EXPECT_EQ(classify_rsync_exit(23), RsyncOutcome::complete_unreadable);
  for (int code : {1, 2, 3, 5, 10, 11, 12, 20, 30, 35, 128 + 9}) EXPECT_EQ(classify_rsync_exit(code), RsyncOutcome::failed);
}

TEST(RsyncRunner, ParsesStats) {
  RsyncResult r;
  parse_rsync_stats_line("Number of files: 1,234 (reg: 1,000, dir: 234)", r);
  parse_rsync_stats_line("Number of regular files transferred: 17", r);
  parse_rsync_stats_line("Total transferred file size: 123456789 bytes", r);
  parse_rsync_stats_line("Total file size: 999 bytes", r);
  EXPECT_EQ(r.total_files, 1234u);
  EXPECT_EQ(r.files, 17u);
  EXPECT_EQ(r.bytes, 123456789u);
}

TEST(RsyncRunner, RunsAChildWithoutAShell) {
  // Arguments with shell metacharacters reach the program untouched.
  const auto r = run_rsync({"sh", "-c", "test \"$1\" = '$(x); *' && exit 24", "sh", "$(x); *"}, false);
  EXPECT_EQ(r.exit_code, 24);
}

TEST(RsyncRunner, MissingProgramIsAFailure) {
  EXPECT_THROW(run_rsync({"/nonexistent/rsync"}, false), Failure);
}

TEST(RsyncRunner, KilledChildReportsSignal) {
  const auto r = run_rsync({"sh", "-c", "kill -9 $$"}, false);
  EXPECT_EQ(r.exit_code, 128 + 9);
}

TEST(RsyncRunner, ChecksumLinesGiveTheWrittenFilesAndNothingElse) {
  RsyncResult r;
  const std::string prefix(kChecksumLinePrefix);
  EXPECT_TRUE(parse_rsync_checksum_line(prefix + "0da0637722216c2e2593a39a564d497b src/a file", r));
  EXPECT_TRUE(parse_rsync_checksum_line(prefix + std::string(32, ' ') + " src/dir/", r));       // no data written
  EXPECT_TRUE(parse_rsync_checksum_line(prefix + "f4d0497cf9394caab34d1a3ab2bece70 src/odd\\#012name", r));  // escaped
  EXPECT_TRUE(parse_rsync_checksum_line(prefix + "f4d0497cf9394caab34d1a3ab2bece7", r));        // cut short
  EXPECT_FALSE(parse_rsync_checksum_line("Number of files: 3", r));
  ASSERT_EQ(r.written_checksums.size(), 1u);
  EXPECT_EQ(r.written_checksums.at("src/a file").hex(), "0da0637722216c2e2593a39a564d497b");
}
