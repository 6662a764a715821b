// Space used by snapshots that share data: through hard links (one inode in several
// snapshots) and, on reflink filesystems, through shared extents (one block in several
// inodes). Data counts towards the first snapshot, in time order, that holds it — as `du`
// does for hard links over several folders, and as `df` sees it for shared extents.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <unordered_set>

namespace bkp {

struct Usage {
  uint64_t files = 0;     // entries of any kind
  uint64_t apparent = 0;  // sum of file sizes, as `du --apparent-size`
  uint64_t added = 0;     // bytes on disk that no earlier measured snapshot holds
};

// Physical byte ranges already counted, merged into disjoint [start, end) intervals.
class ExtentSet {
 public:
  // Adds [start, end) and returns how many of its bytes were not in the set before.
  uint64_t add(uint64_t start, uint64_t end);

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end
};

class UsageCounter {
 public:
  // Walks `tree` without following symlinks; call in time order.
  Usage measure(const std::filesystem::path& tree);

  struct InodeHash {
    size_t operator()(const std::pair<dev_t, ino_t>& k) const { return std::hash<uint64_t>()(k.first * 1000003u ^ k.second); }
  };
  using InodeSet = std::unordered_set<std::pair<dev_t, ino_t>, InodeHash>;

  // Bytes of a newly seen regular file's extents that are not shared with data seen before.
  uint64_t new_data_bytes(int dir_fd, const char* name, const struct stat& st);

 private:
  InodeSet seen_;
  std::map<dev_t, ExtentSet> extents_;
};

}  // namespace bkp
