#include "fd_cache.h"

namespace bkpfs {

SharedFd FdCache::get(std::uint64_t key) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

SharedFd FdCache::put(std::uint64_t key, UniqueFd fd) {
  auto fresh = std::make_shared<const UniqueFd>(std::move(fd));
  SharedFd evicted;  // closed after the lock is released
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }
  order_.emplace_front(key, fresh);
  index_.emplace(key, order_.begin());
  if (order_.size() > capacity_) {
    evicted = std::move(order_.back().second);
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  return fresh;
}

void FdCache::erase(std::uint64_t key) {
  SharedFd evicted;
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  evicted = std::move(it->second->second);
  order_.erase(it->second);
  index_.erase(it);
}

std::size_t FdCache::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace bkpfs
