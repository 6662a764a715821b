// Checks of remote sources before a run touches DEST, with the same rules as for local
// ones (preflight.h): a source that is missing, not a directory, unreadable or (unless
// --allow-empty) empty is refused, and so is a host that cannot be reached.
//
// It costs one ssh connection per login and no transfer: one
//   rsync --list-only --dirs --relative -- host:/a/ :/b/ ...
// lists each directory and its entries (not below), and rsync is all it runs on the host,
// so it works with a key restricted to rsync by a forced command such as `rrsync -ro /`.
// --relative keeps the full paths in the listing, so every line says which source it is in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backup_options.h"
#include "source_spec.h"

namespace bkp {

// The rsync command that lists the sources of one login (all of `sources` share it).
std::vector<std::string> listing_argv(const std::string& rsync, const std::string& rsh,
                                      const std::vector<SourceSpec>& sources);

struct ListingOutput {
  int exit_code = 0;
  std::vector<std::string> out;  // stdout lines: the listing
  std::vector<std::string> err;  // stderr lines: rsync's errors, and ssh's
};

// One refusal line per source found wanting (naming it as given), or one for the whole
// login when the host could not be reached or rsync failed there; empty when all is well.
std::vector<std::string> judge_listing(const std::vector<SourceSpec>& sources, const ListingOutput& listing,
                                       bool allow_empty);

// A line of `rsync --list-only`: "drwxr-xr-x  4096 2026/12/01 09:20:42 srv/www".
struct ListedEntry {
  char type = '?';   // the first letter of the mode: 'd', '-', 'l', ...
  std::string name;  // unescaped, without a symlink's " -> target"
};
std::optional<ListedEntry> parse_listing_line(std::string_view line);
// rsync prints bytes it will not print as such as \#ooo (octal).
std::string unescape_rsync_name(std::string_view name);

// Lists the remote sources, one rsync per login, and throws Failure when any is refused
// (every refusal but the last is logged as an error first, each on one line).
void check_remote_sources(const std::vector<SourceSpec>& sources, const std::string& rsync, const std::string& rsh,
                          bool allow_empty);

// Every check of a run's --sources, local ones first (they cost no connection): returns
// them parsed, local paths made absolute.
std::vector<SourceSpec> check_local_and_remote_sources(const BackupOptions& options, const std::string& rsync);

}  // namespace bkp
