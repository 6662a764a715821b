// The queue between bkp's tree walk (two threads) and its copying threads.
#include "bounded_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bkp {
namespace {

// Waits (yielding) until exactly `pushers` threads are blocked in push().
void until_blocked(BoundedQueue<int>& queue, std::size_t pushers) {
  while (queue.waiting_pushers() != pushers) std::this_thread::yield();
}

// The full run's deadlock: two walk threads waited on a full queue, only one was woken when
// it was half empty, the copying threads drained it, and the other waited forever. Both
// must go on once half the queue is free (a regression hangs here, and meson's timeout
// fails the test).
TEST(BoundedQueue, EveryWaitingPusherGoesOnOnceHalfTheQueueIsFree) {
  BoundedQueue<int> queue(4);
  for (int i = 0; i < 4; ++i) queue.push(i);
  std::vector<std::thread> pushers;
  for (int i = 0; i < 2; ++i) pushers.emplace_back([&queue, i] { queue.push(10 + i); });
  until_blocked(queue, 2);
  EXPECT_EQ(queue.pop(), 0);
  EXPECT_EQ(queue.pop(), 1);
  until_blocked(queue, 0);
  for (auto& t : pushers) t.join();
  int left = 0;
  while (left < 4 && queue.pop()) ++left;
  EXPECT_EQ(left, 4);
}

TEST(BoundedQueue, CloseReleasesPushersAndDrainsWhatIsQueued) {
  BoundedQueue<int> queue(1);
  queue.push(1);
  std::thread pusher([&] { queue.push(2); });
  until_blocked(queue, 1);
  queue.close();
  pusher.join();
  EXPECT_EQ(queue.pop(), 1);  // queued before close: still taken
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(BoundedQueue, ItemsComeOutInTheOrderTheyWentIn) {
  BoundedQueue<int> queue(8);
  for (int i = 0; i < 5; ++i) queue.push(i);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queue.pop(), i);
}

}  // namespace
}  // namespace bkp
