#include <gtest/gtest.h>

#include <algorithm>

#include "transfers.h"

using namespace bkp;

namespace {

std::vector<SourceSpec> specs(std::vector<std::string> given) {
  std::vector<SourceSpec> out;
  for (const auto& g : given) out.push_back(parse_source(g));
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST(Transfers, LocalSourcesFirstThenOnePerLogin) {
  const auto transfers = group_transfers(specs({"web1:/srv", "/home", "root@web1:/etc", "web2:/a", "web1:/b/", "/etc2"}));
  ASSERT_EQ(transfers.size(), 4u);
  EXPECT_EQ(transfers[0].login, "");
  EXPECT_EQ(transfers[0].sources, (std::vector<std::filesystem::path>{"/home", "/etc2"}));
  EXPECT_EQ(transfers[1].login, "web1");
  EXPECT_EQ(transfers[1].sources, (std::vector<std::filesystem::path>{"web1:/srv", "web1:/b"}));
  EXPECT_EQ(transfers[2].login, "root@web1");
  EXPECT_EQ(transfers[3].login, "web2");
  EXPECT_TRUE(group_transfers(specs({"web1:/srv"}))[0].login == "web1");
}

TEST(Transfers, RemoteIncrementsLinkToThePreviousSnapshotWithRsync) {
  RsyncPlan run;
  run.target = "/d/0/new";
  run.prelinked = true;             // the local sources were linked by bkp
  run.link_dests = {"/d/0/.bkp-partial-x"};  // a reused partial snapshot
  run.sparse = false;
  const RemoteSettings remote{"ssh -p 2222", true, false};
  const RsyncPlan local = plan_transfer(run, {"", {"/home"}}, remote, std::filesystem::path("/d/0/prev"));
  EXPECT_TRUE(local.prelinked);
  EXPECT_EQ(local.link_dests, run.link_dests);
  EXPECT_TRUE(local.rsh.empty());

  const RsyncPlan pulled = plan_transfer(run, {"web1", {"web1:/srv"}}, remote, std::filesystem::path("/d/0/prev"));
  EXPECT_FALSE(pulled.prelinked);
  EXPECT_EQ(pulled.link_dests, (std::vector<std::filesystem::path>{"/d/0/prev", "/d/0/.bkp-partial-x"}));
  const auto argv = build_rsync_argv(pulled);
  for (const char* flag : {"--rsh=ssh -p 2222", "--sparse", "--acls", "--link-dest=/d/0/prev", "--modify-window=-1"})
    EXPECT_TRUE(has(argv, flag)) << flag;
  for (const char* flag : {"--xattrs", "--ignore-existing", "--delete-excluded"}) EXPECT_FALSE(has(argv, flag)) << flag;
  EXPECT_EQ(argv[argv.size() - 2], "web1:/srv");
  EXPECT_EQ(argv.back(), "/d/0/new/");

  run.prelinked = false;  // a full run, or a dry run (whose link_dests already hold the previous snapshot)
  EXPECT_EQ(plan_transfer(run, {"web1", {"web1:/srv"}}, remote, std::filesystem::path("/d/0/prev")).link_dests,
            run.link_dests);
}

TEST(Transfers, ResultsAddUpAndTheWorstStatusWins) {
  RsyncResult total;
  add_transfer_result(total, {.exit_code = 24, .files = 2, .bytes = 10, .total_files = 5});
  add_transfer_result(total, {.exit_code = 0, .files = 1, .bytes = 5, .total_files = 3});
  EXPECT_EQ(total.exit_code, 24);
  add_transfer_result(total, {.exit_code = 23, .destination_errors = 1, .first_destination_error = "disk full"});
  EXPECT_EQ(total.exit_code, 23);
  add_transfer_result(total, {.exit_code = 24});
  EXPECT_EQ(total.exit_code, 23);
  add_transfer_result(total, {.exit_code = 12, .destination_errors = 2, .first_destination_error = "later"});
  EXPECT_EQ(total.exit_code, 12);
  EXPECT_EQ(total.files, 3u);
  EXPECT_EQ(total.bytes, 15u);
  EXPECT_EQ(total.total_files, 8u);
  EXPECT_EQ(total.destination_errors, 3u);
  EXPECT_EQ(total.first_destination_error, "disk full");
}

TEST(Transfers, AFailedPullNamesTheHostAndWhatSshSaid) {
  TransferRun run;
  run.result.exit_code = 255;
  run.failed_login = "web1";
  run.result.last_shell_message = "ssh: connect to host web1 port 22: No route to host";
  EXPECT_EQ(run.failure_reason(), "rsync failed with exit status 255 pulling from web1 (the ssh connection failed or "
                                  "was refused): ssh: connect to host web1 port 22: No route to host");
  run.failed_login.clear();
  EXPECT_EQ(run.failure_reason(), "rsync failed with exit status 255");
}
