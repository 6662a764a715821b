// A small least-recently-used cache of immutable values, for the views that are built
// lazily per directory (versions/, changes/) and must stay bounded in memory. Each value
// has a weight (e.g. its number of entries); the least recently used values are dropped
// while the total is over the capacity, but the newest one is always kept.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
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
    return std::get<1>(*it->second);
  }

  void put(const Key& key, std::shared_ptr<const Value> value, std::size_t weight = 1) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      total_ -= std::get<2>(*it->second);
      order_.erase(it->second);
      index_.erase(it);
    }
    order_.emplace_front(key, std::move(value), weight);
    index_.emplace(key, order_.begin());
    total_ += weight;
    while (total_ > capacity_ && order_.size() > 1) {
      total_ -= std::get<2>(order_.back());
      index_.erase(std::get<0>(order_.back()));
      order_.pop_back();
    }
  }

  void clear() {
    std::lock_guard lock(mutex_);
    order_.clear();
    index_.clear();
    total_ = 0;
  }

  std::size_t weight() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  using Item = std::tuple<Key, std::shared_ptr<const Value>, std::size_t>;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Item> order_;  // most recently used first
  std::map<Key, typename std::list<Item>::iterator> index_;
  std::size_t total_ = 0;
};

}  // namespace bkpfs
