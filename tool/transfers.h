// The rsync runs that fill one snapshot. rsync pulls from one host at a time and cannot mix
// local and remote sources, so a run is one transfer for the local sources and one per
// remote login (user@host), all into the same snapshot folder, one after the other.
//
// Remote sources cannot use bkp's own linking of unchanged files (link_unchanged.h), which
// stats both trees: a remote tree is seen only through rsync. Their transfer links unchanged
// files to the previous snapshot with rsync --link-dest instead (same size, mtime to the
// nanosecond through --modify-window=-1, mode, owner, group; ACLs and xattrs when kept).
// Unlike bkp's linking, --link-dest does not know hard-link groups: two names that were
// one file in the previous snapshot and are now two identical files stay one file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "rsync_command.h"
#include "rsync_runner.h"
#include "source_spec.h"

namespace bkp {

struct Transfer {
  std::string login;                           // "" for the local sources, else [user@]host
  std::vector<std::filesystem::path> sources;  // rsync's source arguments
};

// The local sources first (paths as given in the specs), then one transfer per login, in
// the order the logins first appear.
std::vector<Transfer> group_transfers(const std::vector<SourceSpec>& sources);

// What a remote transfer keeps that bkp cannot tell from the sources themselves.
struct RemoteSettings {
  std::string rsh;      // rsync --rsh
  bool acls = false;    // the destination can store them (for local sources bkp also
  bool xattrs = false;  // checks that some source has them; a remote tree cannot be walked)
};

// One transfer's plan: the run's plan (made for the local sources) with this transfer's
// sources. A remote transfer gets --rsh and --sparse, and, where the local sources are
// prelinked, --link-dest=`previous` before the reused partial snapshots.
RsyncPlan plan_transfer(const RsyncPlan& run, const Transfer& transfer, const RemoteSettings& remote,
                        const std::optional<std::filesystem::path>& previous);

// Adds one transfer's result to the run's: counts add up, and the exit status is the worst
// (a failure over 23, unreadable files, over 24, vanished files, over 0).
void add_transfer_result(RsyncResult& total, const RsyncResult& one);

struct TransferRun {
  RsyncResult result;
  std::string failed_login;  // the remote transfer that failed, if one did
  // Why the run failed, for its one error line: the exit status, and for a remote
  // transfer the host and what ssh said.
  std::string failure_reason() const;
};

// Runs the transfers one after the other and stops at the first that fails.
TransferRun run_transfers(const RsyncPlan& run, const std::vector<Transfer>& transfers, const RemoteSettings& remote,
                          const std::optional<std::filesystem::path>& previous);

}  // namespace bkp
