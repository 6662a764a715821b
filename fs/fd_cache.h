// A small least-recently-used cache of descriptors keyed by node id. It bounds how many
// descriptors bkpfs holds no matter how many files are browsed; a descriptor evicted
// while a request still uses it is closed when that request drops its reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "fd.h"

namespace bkpfs {

class FdCache {
 public:
  explicit FdCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The cached descriptor, now the most recently used; nullptr on a miss.
  SharedFd get(std::uint64_t key);
  // Caches `fd` under `key` (keeping an entry another thread added first) and returns
  // the cached descriptor, evicting the least recently used one when full.
  SharedFd put(std::uint64_t key, UniqueFd fd);
  void erase(std::uint64_t key);
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  using Item = std::pair<std::uint64_t, SharedFd>;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Item> order_;  // most recently used first
  std::unordered_map<std::uint64_t, std::list<Item>::iterator> index_;
};

}  // namespace bkpfs
