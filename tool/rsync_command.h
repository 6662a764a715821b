// Builds rsync's argument vector for one snapshot. Pure: no I/O, so every flag is unit-tested.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

struct RsyncPlan {
  std::string rsync = "rsync";
  std::vector<std::filesystem::path> sources;      // absolute, or [user@]host:path; no trailing slash
  std::string rsh;            // remote sources: rsync's --rsh (the ssh command line)
  std::filesystem::path target;                   // DEST/0/<snapshot>, absolute
  std::vector<std::filesystem::path> link_dests;  // previous snapshot first, then reusable partials
  bool sparse = true;        // some source file has holes
  bool numeric_ids = false;   // when root: owners stored by number, as restored by number
  bool acls = false;          // destination supports POSIX ACLs
  bool xattrs = false;        // destination supports user xattrs
  bool checksum = false;
  bool dry_run = false;
  bool progress = false;
  // The target already holds hard links to unchanged files (see link_unchanged.h): rsync
  // must not touch them, and must remove those its filters exclude.
  bool prelinked = false;
  // rsync prints the XXH3-128 of each file it writes (kChecksumLinePrefix lines, see
  // rsync_runner.h), so that the checksum record need not read those files again. Only
  // for an rsync that has xxh128 (rsync_has_xxh128), and only for local transfers: the
  // algorithm is forced with --checksum-choice, which a remote rsync may not know.
  bool report_checksums = false;
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_from;
};

// rsync -aHS --delete ... -- SRC... TARGET/   (sources without trailing slash, so each
// lands in TARGET/<basename>/). The target is always a fresh folder: the previous
// snapshot is only ever read through --link-dest, never written.
std::vector<std::string> build_rsync_argv(const RsyncPlan& plan);

// The start of the --out-format lines that carry a written file's checksum:
// "<prefix><32 hex digits> <path in the target>".
inline constexpr std::string_view kChecksumLinePrefix = "bkp-xxh128:";

// Whether `rsync --version` lists xxh128 among its checksums (rsync >= 3.2.3 built with
// libxxhash, as Debian's is).
bool rsync_has_xxh128(const std::string& rsync);

}  // namespace bkp
