// A queue between threads that hand work on (any number of them) and threads that take it:
// push waits while `capacity` items are queued, pop waits while none is. close() ends it:
// push then drops, pop drains what is left and then returns nothing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace bkp {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  void push(T item) {
    std::unique_lock lock(mutex_);
    ++waiting_pushers_;
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    --waiting_pushers_;
    if (closed_) return;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
  }

  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    // Pushers are let on once half the queue is free (not after every pop), and all of
    // them: a single one woken could leave the others waiting on a queue that drains empty.
    if (waiting_pushers_ > 0 && items_.size() <= capacity_ / 2) not_full_.notify_all();
    return item;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // Threads waiting in push() now, for tests.
  std::size_t waiting_pushers() {
    std::lock_guard lock(mutex_);
    return waiting_pushers_;
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  std::size_t waiting_pushers_ = 0;
  bool closed_ = false;
};

}  // namespace bkp
