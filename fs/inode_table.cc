#include "inode_table.h"

#include <algorithm>

namespace bkpfs {

InodeTable::InodeTable() {
  add_fixed(kRootId, 0, "", Kind::Root);
  add_fixed(kByDateId, kRootId, "by-date", Kind::ByDate);
  add_fixed(kBySeriesId, kRootId, "by-series", Kind::BySeries);
  add_fixed(kLatestId, kRootId, "latest", Kind::Latest);
  add_fixed(kCurrentId, kBySeriesId, "current", Kind::Current);
}

void InodeTable::add_fixed(NodeId id, NodeId parent, const std::string& name, Kind kind) {
  Node node;
  node.info = NodeInfo{parent, name, kind, {}};
  node.pinned = true;
  nodes_.emplace(id, std::move(node));
  if (parent != 0) by_name_.emplace(Key{parent, name}, id);
}

NodeId InodeTable::lookup(NodeId parent, const std::string& name, Kind kind, const std::string& key) {
  std::lock_guard lock(mutex_);
  Key k{parent, name};
  if (auto it = by_name_.find(k); it != by_name_.end()) {
    Node& node = nodes_.at(it->second);
    if (node.info.kind == kind && node.info.key == key) {
      ++node.lookups;
      return it->second;
    }
    // The name now stands for something else (cannot happen in immutable snapshots, but
    // a virtual name could be reused): unlink the old node, which lives on until forgotten.
    by_name_.erase(it);
  }
  const NodeId id = next_id_++;
  Node node;
  node.info = NodeInfo{parent, name, kind, key};
  node.lookups = 1;
  nodes_.emplace(id, std::move(node));
  by_name_.emplace(std::move(k), id);
  ++nodes_.at(parent).children;
  return id;
}

std::vector<NodeId> InodeTable::forget(NodeId id, std::uint64_t count) {
  std::vector<NodeId> gone;
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return gone;
  Node* node = &it->second;
  node->lookups -= std::min(count, node->lookups);
  // A node that goes away releases its parent, which may go away in turn.
  while (node && !node->pinned && node->lookups == 0 && node->children == 0) {
    const NodeId parent = node->info.parent;
    if (auto named = by_name_.find(Key{parent, node->info.name});
        named != by_name_.end() && named->second == id) {
      by_name_.erase(named);
    }
    nodes_.erase(id);
    gone.push_back(id);
    auto p = nodes_.find(parent);
    if (p == nodes_.end()) break;
    --p->second.children;
    id = parent;
    node = &p->second;
  }
  return gone;
}

std::optional<NodeInfo> InodeTable::get(NodeId id) const {
  std::lock_guard lock(mutex_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<NodeId> InodeTable::find(NodeId parent, const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(Key{parent, name});
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return nodes_.size();
}

}  // namespace bkpfs
