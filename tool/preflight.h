// Checks made before a run touches DEST. Each throws Failure with one line naming the
// culprit, so a refused run leaves DEST exactly as it was.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bkp {

// Returns the local sources as absolute paths without trailing slashes. Refuses a source
// that is missing, not a directory, unreadable or (unless allow_empty) empty. (Names: see
// parse_sources in source_spec.h; remote sources: remote_preflight.h.)
std::vector<std::filesystem::path> check_sources(const std::vector<std::string>& sources, bool allow_empty);

// Refuses when the rsync to run cannot be found in PATH; returns the program to run.
std::string find_rsync();

struct DestinationFeatures {
  bool acls = false;
  bool xattrs = false;
  bool reflink = false;  // files can share blocks (FICLONE works)
};

// Refuses a DEST that is not a directory or not writable, or whose filesystem cannot hard
// link; creates DEST if only its last component is missing (and removes it again if it
// then refuses it).
// Probes ACL and xattr support with a temporary file that it removes again.
DestinationFeatures check_destination(const std::filesystem::path& dest);

}  // namespace bkp
