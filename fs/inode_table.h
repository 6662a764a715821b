// FUSE node ids. The virtual directories and links at the top have small fixed ids; every
// other node is created on lookup and named by (parent node, entry name), so a node holds
// no descriptor: its directory is reopened relative to its parent when needed (see
// Filesystem::dir_fd). Nodes are counted the way FUSE asks: one per lookup reply, minus
// forgets, and a node also stays while it has children so that a child can always reach
// its parent chain. Ids are never reused, so a stale id can never hit another file.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "timeline.h"

namespace bkpfs {

using NodeId = std::uint64_t;

inline constexpr NodeId kRootId = 1;  // FUSE_ROOT_ID
inline constexpr NodeId kByDateId = 2;
inline constexpr NodeId kBySeriesId = 3;
inline constexpr NodeId kLatestId = 4;
inline constexpr NodeId kCurrentId = 5;

struct NodeInfo {
  NodeId parent = 0;
  std::string name;  // entry name in the parent
  Kind kind = Kind::Content;
  std::string key;   // see VirtualEntry::key
};

class InodeTable {
 public:
  InodeTable();

  // The node for entry `name` of `parent`, created if needed, with one more lookup.
  NodeId lookup(NodeId parent, const std::string& name, Kind kind, const std::string& key);
  // Drops `count` lookups. Returns the ids that went away (for the descriptor caches).
  std::vector<NodeId> forget(NodeId id, std::uint64_t count);
  std::optional<NodeInfo> get(NodeId id) const;
  // The node of entry `name` of `parent` if the kernel knows it; no lookup is counted.
  std::optional<NodeId> find(NodeId parent, const std::string& name) const;
  std::size_t size() const;

 private:
  struct Node {
    NodeInfo info;
    std::uint64_t lookups = 0;
    std::uint64_t children = 0;
    bool pinned = false;  // the fixed virtual nodes never go away
  };
  struct Key {
    NodeId parent;
    std::string name;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string>()(k.name) ^ (k.parent * 0x9e3779b97f4a7c15ULL);
    }
  };

  void add_fixed(NodeId id, NodeId parent, const std::string& name, Kind kind);

  mutable std::mutex mutex_;
  std::unordered_map<NodeId, Node> nodes_;
  std::unordered_map<Key, NodeId, KeyHash> by_name_;
  NodeId next_id_ = 16;
};

}  // namespace bkpfs
