// What the sources hold that costs rsync extra work on every file: extended attributes or
// ACLs (--xattrs/--acls read them for each file) and sparse files (--sparse scans all data
// for zero blocks). One quick walk tells; the flags are passed only when needed.
// A file that gains xattrs or holes between this walk and rsync's is copied without them
// in this snapshot, as if it had changed just after it.
#pragma once

#include <filesystem>
#include <vector>

namespace bkp {

struct SourceTraits {
  bool xattrs = false;  // some entry has extended attributes (ACLs are stored as such)
  bool sparse = false;  // some regular file has fewer blocks than its size needs
};

SourceTraits scan_source_traits(const std::vector<std::filesystem::path>& sources);

}  // namespace bkp
