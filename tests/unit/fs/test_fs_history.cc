// The pieces of the history views: the bounded cache and the union of a directory.
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "history.h"
#include "lru_cache.h"
#include "test_support.h"

namespace bkpfs {
namespace {

TEST(LruCache, DropsTheLeastRecentlyUsedOverItsWeight) {
  LruCache<std::string, int> cache(10);
  cache.put("a", std::make_shared<int>(1), 4);
  cache.put("b", std::make_shared<int>(2), 4);
  ASSERT_TRUE(cache.get("a"));  // a is now the most recent
  cache.put("c", std::make_shared<int>(3), 4);
  EXPECT_TRUE(cache.get("a"));
  EXPECT_FALSE(cache.get("b"));
  EXPECT_EQ(cache.weight(), 8u);
  cache.put("huge", std::make_shared<int>(4), 100);  // the newest is kept, alone
  EXPECT_TRUE(cache.get("huge"));
  EXPECT_FALSE(cache.get("a"));
  EXPECT_EQ(cache.weight(), 100u);
}

TEST(History, ExtensionsKeepTheFileOpenable) {
  EXPECT_EQ(extension_of("thesis.tex"), ".tex");
  EXPECT_EQ(extension_of("archive.tar.gz"), ".gz");
  EXPECT_EQ(extension_of("Makefile"), "");
  EXPECT_EQ(extension_of(".bashrc"), "");
}

TEST(History, UnionOfADirectoryOverSnapshots) {
  bkptest::TempDir tmp;
  bkptest::write_file(tmp / "s0/d/a", "a");
  bkptest::write_file(tmp / "s1/d/b", "b");
  std::filesystem::create_directories(tmp / "s1/d/sub");
  bkptest::write_file(tmp / "s2/d/c", "c");
  std::filesystem::create_hard_link(tmp / "s0/d/a", tmp / "s2/d/a");  // an increment's link
  const std::vector<std::filesystem::path> snaps{tmp / "s0", tmp / "s1", tmp / "s2"};
  auto open = [&](std::size_t i, const std::string& rel) {
    return UniqueFd(::open((snaps[i] / rel).c_str(), O_PATH | O_DIRECTORY));
  };
  const UnionListing u = union_listing(3, "d", open);
  ASSERT_EQ(u.size(), 4u);
  EXPECT_TRUE(u.at("sub").directory);
  ASSERT_EQ(u.at("a").appearances.size(), 1u);  // the same inode in s0 and s2: one appearance
  EXPECT_EQ(u.at("a").appearances[0].first, 0u);
  EXPECT_EQ(u.at("a").appearances[0].last, 2u);
  EXPECT_EQ(u.at("b").appearances[0].first, 1u);
  EXPECT_TRUE(union_listing(3, "missing", open).empty());
}

}  // namespace
}  // namespace bkpfs
