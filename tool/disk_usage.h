// Space used by snapshots that share files through hard links: a file counts towards the
// first snapshot (in time order) that holds its inode, as `du` does over several folders.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <unordered_set>

namespace bkp {

struct Usage {
  uint64_t files = 0;     // entries of any kind
  uint64_t apparent = 0;  // sum of file sizes, as `du --apparent-size`
  uint64_t added = 0;     // allocated bytes of inodes not seen in an earlier snapshot
};

class UsageCounter {
 public:
  // Walks `tree` without following symlinks; call in time order.
  Usage measure(const std::filesystem::path& tree);

  struct InodeHash {
    size_t operator()(const std::pair<dev_t, ino_t>& k) const { return std::hash<uint64_t>()(k.first * 1000003u ^ k.second); }
  };
  using InodeSet = std::unordered_set<std::pair<dev_t, ino_t>, InodeHash>;

 private:
  InodeSet seen_;
};

}  // namespace bkp
