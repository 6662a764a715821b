// FUSE node ids. Every node but the root is created on lookup and named by (parent node,
// entry name); what it stands for follows from that chain (Filesystem::place), so a node
// holds no path and no descriptor. A version node also carries its snapshot, which its
// parent chain (versions/<path>) does not name. Nodes are counted the way FUSE asks: one
// per lookup reply, minus forgets, and a node also stays while it has children so that a
// child can always reach its parent chain.
//
// Built for many nodes: the kernel keeps a node for every entry a walk has seen, so the
// table stores 48 bytes per node (names up to 15 bytes included), in chunks, with an
// intrusive hash index (measured by scripts/bench, "memory per cached inode"). An id is a slot number
// and the slot's generation, so an id of a forgotten node never names another one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bkpfs {

using NodeId = std::uint64_t;

inline constexpr NodeId kRootId = 1;  // FUSE_ROOT_ID

// What a node stands for.
enum class NodeKind : std::uint8_t {
  view,           // a path of the Timeline's ViewTree (the root, by-date/<snapshot>, ...)
  content,        // below a snapshot folder: a real file, directory, link, ...
  versions_path,  // versions/<path>: the union of that path over every snapshot
  version,        // versions/<path>/<snapshot>[.ext]: that path in that snapshot
  changes,        // changes/<snapshot>/<path>: that path in that snapshot, filtered
};

struct NodeInfo {
  NodeId parent = 0;
  std::string name;  // entry name in the parent
  NodeKind kind = NodeKind::view;
  std::uint32_t snapshot = 0;  // version nodes: see Filesystem's snapshot ids
};

class InodeTable {
 public:
  InodeTable();
  ~InodeTable();

  // The node for entry `name` of `parent`, created if needed, with one more lookup. A
  // name that now stands for something else gets a new node (the old one lives on until
  // forgotten).
  NodeId lookup(NodeId parent, std::string_view name, NodeKind kind, std::uint32_t snapshot = 0);
  // Drops `count` lookups. Returns the ids that went away (for the descriptor caches).
  std::vector<NodeId> forget(NodeId id, std::uint64_t count);
  std::optional<NodeInfo> get(NodeId id) const;
  // The node of entry `name` of `parent` if the kernel knows it; no lookup is counted.
  std::optional<NodeId> find(NodeId parent, std::string_view name) const;
  // The nodes from the root's child down to `id` (the root itself is not included).
  std::optional<std::vector<NodeInfo>> chain(NodeId id) const;
  // Calls `f` for every node but the root (under the table's lock: `f` must not use it).
  void for_each(const std::function<void(NodeId, const NodeInfo&)>& f) const;
  std::size_t size() const;

 private:
  struct Node;
  Node* slot(std::uint32_t index) const;
  Node* live(NodeId id) const;  // nullptr for a free slot or another generation
  NodeInfo info_of(std::uint32_t index) const;
  std::size_t bucket_of(std::uint32_t parent, std::string_view name) const;
  void unlink_name(std::uint32_t index);
  void grow_index();
  std::uint32_t allocate();

  static constexpr std::uint32_t kChunk = 4096;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Node[]>> chunks_;
  std::vector<std::uint32_t> free_;
  std::vector<std::uint32_t> buckets_;  // heads of the (parent, name) chains; 0 = empty
  std::uint32_t next_slot_ = 1;         // slot 0 is "none"
  std::size_t live_ = 0;
};

}  // namespace bkpfs
