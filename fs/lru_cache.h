// A small least-recently-used cache of immutable values, for the views that are built
// lazily per directory (versions/, changes/) and must stay bounded in memory.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace bkpfs {

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  std::shared_ptr<const Value> get(const Key& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void put(const Key& key, std::shared_ptr<const Value> value) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void clear() {
    std::lock_guard lock(mutex_);
    order_.clear();
    index_.clear();
  }

 private:
  using Item = std::pair<Key, std::shared_ptr<const Value>>;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::list<Item> order_;  // most recently used first
  std::map<Key, typename std::list<Item>::iterator> index_;
};

}  // namespace bkpfs
