#include "transfers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace bkp {

std::vector<Transfer> group_transfers(const std::vector<SourceSpec>& sources) {
  std::vector<Transfer> transfers;
  Transfer local;
  for (const SourceSpec& s : sources) {
    if (!s.remote()) {
      local.sources.emplace_back(s.rsync_argument());
      continue;
    }
    auto same_login = [&](const Transfer& t) { return t.login == s.login(); };
    auto it = std::find_if(transfers.begin(), transfers.end(), same_login);
    if (it == transfers.end()) it = transfers.insert(transfers.end(), Transfer{s.login(), {}});
    it->sources.emplace_back(s.rsync_argument());
  }
  if (!local.sources.empty()) transfers.insert(transfers.begin(), std::move(local));
  return transfers;
}

RsyncPlan plan_transfer(const RsyncPlan& run, const Transfer& transfer, const RemoteSettings& remote,
                        const std::optional<fs::path>& previous) {
  RsyncPlan plan = run;
  plan.sources = transfer.sources;
  if (transfer.login.empty()) return plan;
  plan.rsh = remote.rsh;
  plan.sparse = true;
  plan.report_checksums = false;  // --checksum-choice=xxh128 may be unknown to the remote rsync
  plan.acls = remote.acls;
  plan.xattrs = remote.xattrs;
  if (run.prelinked) {
    plan.prelinked = false;
    if (previous) plan.link_dests.insert(plan.link_dests.begin(), *previous);
  }
  return plan;
}

namespace {

int severity(int exit_code) {
  switch (classify_rsync_exit(exit_code)) {
    case RsyncOutcome::complete: return 0;
    case RsyncOutcome::complete_vanished: return 1;
    case RsyncOutcome::complete_unreadable: return 2;
    case RsyncOutcome::failed: return 3;
  }
  return 3;
}

}  // namespace

void add_transfer_result(RsyncResult& total, const RsyncResult& one) {
  if (severity(one.exit_code) > severity(total.exit_code)) total.exit_code = one.exit_code;
  total.files += one.files;
  total.bytes += one.bytes;
  total.total_files += one.total_files;
  if (total.destination_errors == 0) total.first_destination_error = one.first_destination_error;
  total.destination_errors += one.destination_errors;
  total.source_errors += one.source_errors;
  total.paths_too_long += one.paths_too_long;
  if (!one.last_shell_message.empty()) total.last_shell_message = one.last_shell_message;
  for (const auto& [path, sum] : one.written_checksums) total.written_checksums.insert_or_assign(path, sum);
}

std::string TransferRun::failure_reason() const {
  std::string why = "rsync failed with exit status " + std::to_string(result.exit_code);
  if (failed_login.empty()) return why;
  why += " pulling from " + failed_login;
  if (result.exit_code == 255) why += " (the ssh connection failed or was refused)";
  if (result.exit_code == 12) why += " (the connection was lost)";
  if (!result.last_shell_message.empty()) why += ": " + result.last_shell_message;
  return why;
}

TransferRun run_transfers(const RsyncPlan& run, const std::vector<Transfer>& transfers, const RemoteSettings& remote,
                          const std::optional<fs::path>& previous) {
  TransferRun out;
  for (const Transfer& t : transfers) {
    const auto argv = build_rsync_argv(plan_transfer(run, t, remote, previous));
    std::string shown;
    for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
    spdlog::debug("running: {}", shown);
    const RsyncResult one = run_rsync(argv, run.progress);
    add_transfer_result(out.result, one);
    if (classify_rsync_result(one) == RsyncOutcome::failed) {
      out.failed_login = t.login;
      out.result.last_shell_message = one.last_shell_message;
      break;
    }
  }
  return out;
}

}  // namespace bkp
