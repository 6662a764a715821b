#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fd_cache.h"

namespace bkpfs {
namespace {

UniqueFd open_null() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(FdCache, BoundedAndLeastRecentlyUsedGoesFirst) {
  FdCache cache(3);
  for (std::uint64_t k = 1; k <= 3; ++k) cache.put(k, open_null());
  ASSERT_TRUE(cache.get(1));  // 1 is now the most recent; 2 is the oldest
  cache.put(4, open_null());
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.get(2));
  EXPECT_TRUE(cache.get(1));
  EXPECT_TRUE(cache.get(4));
}

TEST(FdCache, EvictedDescriptorStaysOpenWhileInUse) {
  FdCache cache(1);
  SharedFd held = cache.put(1, open_null());
  const int fd = held->get();
  cache.put(2, open_null());  // evicts 1
  EXPECT_FALSE(cache.get(1));
  EXPECT_TRUE(is_open(fd));
  held.reset();
  EXPECT_FALSE(is_open(fd));
}

TEST(FdCache, FirstPutWinsAndEraseCloses) {
  FdCache cache(4);
  SharedFd first = cache.put(7, open_null());
  SharedFd second = cache.put(7, open_null());  // another thread lost the race
  EXPECT_EQ(first, second);
  const int fd = first->get();
  first.reset();
  second.reset();
  cache.erase(7);
  EXPECT_FALSE(is_open(fd));
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace bkpfs
