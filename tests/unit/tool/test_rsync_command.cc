#include <gtest/gtest.h>

#include <algorithm>

#include "rsync_command.h"

using namespace bkp;

namespace {
bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }
}  // namespace

TEST(RsyncCommand, FullRunCopiesEverythingIntoAFreshFolder) {
  RsyncPlan plan;
  plan.sources = {"/home/ann", "/etc"};
  plan.target = "/dest/0/2026-11-20_02:00:00";
  const auto argv = build_rsync_argv(plan);
  EXPECT_EQ(argv.front(), "rsync");
  for (const char* flag : {"--archive", "--hard-links", "--sparse", "--delete", "--stats"}) EXPECT_TRUE(has(argv, flag)) << flag;
  EXPECT_FALSE(has(argv, "--numeric-ids"));
  EXPECT_FALSE(std::any_of(argv.begin(), argv.end(), [](const std::string& a) { return a.rfind("--link-dest", 0) == 0; }));
  // Sources go after "--" without a trailing slash; the target gets one.
  const auto dashdash = std::find(argv.begin(), argv.end(), "--");
  ASSERT_NE(dashdash, argv.end());
  EXPECT_EQ(std::vector<std::string>(dashdash + 1, argv.end()),
            (std::vector<std::string>{"/home/ann", "/etc", "/dest/0/2026-11-20_02:00:00/"}));
}

TEST(RsyncCommand, IncrementalLinksPreviousFirstThenPartials) {
  RsyncPlan plan;
  plan.sources = {"/src"};
  plan.target = "/d/0/b";
  plan.link_dests = {"/d/0/a", "/d/0/partial"};
  plan.numeric_ids = plan.acls = plan.xattrs = plan.checksum = true;
  plan.excludes = {"*.tmp", "-weird"};
  plan.exclude_from = {"/etc/bkp.exclude"};
  const auto argv = build_rsync_argv(plan);
  const auto first = std::find(argv.begin(), argv.end(), "--link-dest=/d/0/a");
  const auto second = std::find(argv.begin(), argv.end(), "--link-dest=/d/0/partial");
  ASSERT_NE(first, argv.end());
  EXPECT_LT(first, second);
  for (const char* flag : {"--numeric-ids", "--acls", "--xattrs", "--checksum", "--exclude=*.tmp", "--exclude=-weird",
                           "--exclude-from=/etc/bkp.exclude"})
    EXPECT_TRUE(has(argv, flag)) << flag;
  EXPECT_LT(second, std::find(argv.begin(), argv.end(), "--"));
}

TEST(RsyncCommand, DryRunAndProgress) {
  RsyncPlan plan;
  plan.sources = {"/s"};
  plan.target = "/t";
  plan.dry_run = plan.progress = true;
  const auto argv = build_rsync_argv(plan);
  EXPECT_TRUE(has(argv, "--dry-run"));
  EXPECT_TRUE(has(argv, "--info=progress2"));
}

TEST(RsyncCommand, PrelinkedTargetIsNeverTouchedAndFiltersApply) {
  RsyncPlan plan;
  plan.sources = {"/s"};
  plan.target = "/d/0/b";
  plan.prelinked = true;
  const auto argv = build_rsync_argv(plan);
  EXPECT_TRUE(has(argv, "--ignore-existing"));   // linked files are left exactly as they are
  EXPECT_TRUE(has(argv, "--delete-excluded"));   // links to excluded files are removed again
  EXPECT_FALSE(has(build_rsync_argv(RsyncPlan{.sources = {"/s"}, .target = "/t"}), "--ignore-existing"));
}

TEST(RsyncCommand, ReportedChecksumsAreForcedToXxh128AndPrintedPerWrittenFile) {
  RsyncPlan plan;
  plan.sources = {"/src"};
  plan.target = "/d/0/b";
  EXPECT_FALSE(has(build_rsync_argv(plan), "--checksum-choice=xxh128"));
  plan.report_checksums = true;
  const auto argv = build_rsync_argv(plan);
  EXPECT_TRUE(has(argv, "--checksum-choice=xxh128"));
  EXPECT_TRUE(has(argv, "--out-format=" + std::string(kChecksumLinePrefix) + "%C %n"));
}

TEST(RsyncCommand, TheRsyncOfThisMachineIsAskedWhetherItHasXxh128) {
  EXPECT_TRUE(rsync_has_xxh128("rsync"));  // Debian builds rsync (>= 3.2.3) with libxxhash
  EXPECT_FALSE(rsync_has_xxh128("/nonexistent/rsync"));
  EXPECT_FALSE(rsync_has_xxh128("false"));
}
