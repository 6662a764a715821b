#include "inode_table.h"

#include <algorithm>
#include <cstring>

namespace bkpfs {

struct InodeTable::Node {
  // The entry name, NUL-terminated: in place when it is short (most are), else on the heap.
  static constexpr std::size_t kInline = 16;
  union {
    char inline_name[kInline];
    char* heap_name;
  };
  std::uint64_t lookups = 0;
  std::uint32_t parent = 0;      // slot of the parent
  std::uint32_t generation = 0;
  std::uint32_t children = 0;
  std::uint32_t next = 0;        // next slot in the same bucket
  std::uint32_t snapshot = 0;
  NodeKind kind = NodeKind::view;
  bool indexed = false;          // reachable by (parent, name)
  bool used = false;
  bool on_heap = false;

  Node() : inline_name{} {}
  ~Node() { clear_name(); }
  const char* name() const { return on_heap ? heap_name : inline_name; }
  void set_name(std::string_view n) {
    clear_name();
    char* to = inline_name;
    if (n.size() >= kInline) {
      heap_name = new char[n.size() + 1];
      on_heap = true;
      to = heap_name;
    }
    std::memcpy(to, n.data(), n.size());
    to[n.size()] = '\0';
  }
  void clear_name() {
    if (on_heap) delete[] heap_name;
    on_heap = false;
    inline_name[0] = '\0';
  }
};

namespace {

std::uint32_t slot_of(NodeId id) { return static_cast<std::uint32_t>(id); }
std::uint32_t generation_of(NodeId id) { return static_cast<std::uint32_t>(id >> 32); }
NodeId id_of(std::uint32_t slot, std::uint32_t generation) { return (NodeId{generation} << 32) | slot; }

std::size_t name_hash(std::uint32_t parent, std::string_view name) {
  return std::hash<std::string_view>()(name) ^ (parent * 0x9e3779b97f4a7c15ULL);
}

}  // namespace

InodeTable::InodeTable() {
  buckets_.assign(1024, 0);
  const std::uint32_t root = allocate();  // slot 1, generation 0: FUSE_ROOT_ID
  Node* n = slot(root);
  n->set_name("");
  n->used = true;
  n->lookups = 1;  // the root is never forgotten
}

InodeTable::~InodeTable() = default;

InodeTable::Node* InodeTable::slot(std::uint32_t index) const { return &chunks_[index / kChunk][index % kChunk]; }

InodeTable::Node* InodeTable::live(NodeId id) const {
  const std::uint32_t s = slot_of(id);
  if (s == 0 || s >= next_slot_) return nullptr;
  Node* n = slot(s);
  return n->used && n->generation == generation_of(id) ? n : nullptr;
}

std::uint32_t InodeTable::allocate() {
  std::uint32_t s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = next_slot_++;
    if (s / kChunk >= chunks_.size()) chunks_.push_back(std::make_unique<Node[]>(kChunk));
  }
  ++live_;
  return s;
}

std::size_t InodeTable::bucket_of(std::uint32_t parent, std::string_view name) const {
  return name_hash(parent, name) & (buckets_.size() - 1);
}

void InodeTable::grow_index() {
  std::vector<std::uint32_t> bigger(buckets_.size() * 2, 0);
  buckets_.swap(bigger);
  for (std::uint32_t head : bigger)
    for (std::uint32_t s = head; s != 0;) {
      Node* n = slot(s);
      const std::uint32_t next = n->next;
      const std::size_t b = bucket_of(n->parent, n->name());
      n->next = buckets_[b];
      buckets_[b] = s;
      s = next;
    }
}

void InodeTable::unlink_name(std::uint32_t index) {
  Node* n = slot(index);
  if (!n->indexed) return;
  std::uint32_t* link = &buckets_[bucket_of(n->parent, n->name())];
  while (*link != 0 && *link != index) link = &slot(*link)->next;
  if (*link == index) *link = n->next;
  n->next = 0;
  n->indexed = false;
}

NodeInfo InodeTable::info_of(std::uint32_t index) const {
  const Node* n = slot(index);
  NodeInfo info;
  info.parent = n->parent == 0 ? 0 : id_of(n->parent, slot(n->parent)->generation);
  info.name = n->name();
  info.kind = n->kind;
  info.snapshot = n->snapshot;
  return info;
}

NodeId InodeTable::lookup(NodeId parent, std::string_view name, NodeKind kind, std::uint32_t snapshot) {
  std::lock_guard lock(mutex_);
  Node* p = live(parent);
  if (!p) return 0;
  const std::uint32_t ps = slot_of(parent);
  for (std::uint32_t s = buckets_[bucket_of(ps, name)]; s != 0; s = slot(s)->next) {
    Node* n = slot(s);
    if (n->parent != ps || name != n->name()) continue;
    if (n->kind == kind && n->snapshot == snapshot) {
      ++n->lookups;
      return id_of(s, n->generation);
    }
    unlink_name(s);
    break;
  }
  const std::uint32_t s = allocate();
  Node* n = slot(s);
  n->set_name(name);
  n->lookups = 1;
  n->parent = ps;
  n->children = 0;
  n->snapshot = snapshot;
  n->kind = kind;
  n->used = true;
  n->indexed = true;
  const std::size_t b = bucket_of(ps, name);
  n->next = buckets_[b];
  buckets_[b] = s;
  ++slot(ps)->children;
  if (live_ > buckets_.size()) grow_index();
  return id_of(s, n->generation);
}

std::vector<NodeId> InodeTable::forget(NodeId id, std::uint64_t count) {
  std::vector<NodeId> gone;
  std::lock_guard lock(mutex_);
  Node* n = live(id);
  if (!n || id == kRootId) return gone;
  n->lookups -= std::min(count, n->lookups);
  std::uint32_t s = slot_of(id);
  // A node that goes away releases its parent, which may go away in turn.
  while (s != 1 && n->lookups == 0 && n->children == 0) {
    gone.push_back(id_of(s, n->generation));
    unlink_name(s);
    const std::uint32_t parent = n->parent;
    n->clear_name();
    n->used = false;
    ++n->generation;
    free_.push_back(s);
    --live_;
    s = parent;
    n = slot(s);
    --n->children;
  }
  return gone;
}

std::optional<NodeInfo> InodeTable::get(NodeId id) const {
  std::lock_guard lock(mutex_);
  if (!live(id)) return std::nullopt;
  return info_of(slot_of(id));
}

std::optional<NodeId> InodeTable::find(NodeId parent, std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (!live(parent)) return std::nullopt;
  const std::uint32_t ps = slot_of(parent);
  for (std::uint32_t s = buckets_[bucket_of(ps, name)]; s != 0; s = slot(s)->next) {
    const Node* n = slot(s);
    if (n->parent == ps && name == n->name()) return id_of(s, n->generation);
  }
  return std::nullopt;
}

std::optional<std::vector<NodeInfo>> InodeTable::chain(NodeId id) const {
  std::lock_guard lock(mutex_);
  if (!live(id)) return std::nullopt;
  std::vector<NodeInfo> out;
  for (std::uint32_t s = slot_of(id); s != 1 && s != 0; s = slot(s)->parent) out.push_back(info_of(s));
  std::reverse(out.begin(), out.end());
  return out;
}

void InodeTable::for_each(const std::function<void(NodeId, const NodeInfo&)>& f) const {
  std::lock_guard lock(mutex_);
  for (std::uint32_t s = 2; s < next_slot_; ++s)
    if (slot(s)->used) f(id_of(s, slot(s)->generation), info_of(s));
}

std::size_t InodeTable::size() const {
  std::lock_guard lock(mutex_);
  return live_;
}

}  // namespace bkpfs
