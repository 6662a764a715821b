// The shared fd-relative walker, open_beneath and the "unchanged" rule.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#include <atomic>
#include <set>

#include "beneath.h"
#include "unchanged.h"
#include "unique_fd.h"
#include "walker.h"
#include "xattrs.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

// True when every other thread of this process sleeps (in the walker: waits for work). A
// thread that was woken is runnable ('R') until it runs, so this also tells whether work
// was handed to it.
bool other_threads_sleep() {
  const std::string self = std::to_string(::gettid());
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    if (task.path().filename() == self) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto end_of_name = line.rfind(')');  // "tid (name) S ..."
    if (end_of_name != std::string::npos && line.compare(end_of_name + 2, 1, "S") != 0) return false;
  }
  return true;
}

class Tree : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("bkp-walker-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "a/b/c");
    fs::create_directories(root / "d");
    fs::create_directories(outside);
    std::ofstream(root / "a/b/c/f") << "f";
    std::ofstream(root / "top") << "t";
    std::ofstream(outside / "secret") << "s";
    fs::create_symlink(outside, root / "d/link");
  }
  void TearDown() override {
    fs::remove_all(root);
    fs::remove_all(outside);
  }
  std::set<std::string> walk(unsigned threads) {
    std::set<std::string> seen;
    std::mutex m;
    walk_tree(root, {.enter = [&](const WalkEntry& e) {
      std::lock_guard lock(m);
      seen.insert(e.path);
      return Visit::descend;
    }}, {.threads = threads});
    return seen;
  }
  fs::path root;
  fs::path outside = fs::temp_directory_path() / ("bkp-walker-out-" + std::to_string(::getpid()));
};

}  // namespace

TEST_F(Tree, VisitsEveryEntryOnceWithoutFollowingSymlinks) {
  const std::set<std::string> expected = {"a", "a/b", "a/b/c", "a/b/c/f", "d", "d/link", "top"};
  EXPECT_EQ(walk(1), expected);
  EXPECT_EQ(walk(2), expected);
}

TEST_F(Tree, LeaveComesAfterTheContentAndStopEndsTheWalk) {
  std::vector<std::string> order;
  walk_tree(root, {.enter = [&](const WalkEntry& e) {
                     order.push_back("+" + e.path);
                     return e.path == "d" ? Visit::skip : Visit::descend;
                   },
                   .leave = [&](const WalkEntry& e) { order.push_back("-" + e.path); }});
  const auto pos = [&](const std::string& s) { return std::find(order.begin(), order.end(), s) - order.begin(); };
  EXPECT_LT(pos("+a/b/c/f"), pos("-a/b/c"));
  EXPECT_LT(pos("-a/b/c"), pos("-a/b"));
  EXPECT_EQ(pos("+d/link"), static_cast<long>(order.size()));  // skipped
  EXPECT_EQ(pos("-d"), static_cast<long>(order.size()));
  int visited = 0;
  EXPECT_FALSE(walk_tree(root, {.enter = [&](const WalkEntry&) { return ++visited == 2 ? Visit::stop : Visit::descend; }}));
  EXPECT_EQ(visited, 2);
}

// One big subdirectory (the usual snapshot: one folder per source) is shared by the
// threads at every depth, and each directory's `leave` still comes after all its content.
TEST_F(Tree, ThreadsShareOneBigSubdirectoryAndLeaveComesAfterTheContent) {
  fs::remove_all(root / "a");
  fs::remove_all(root / "d");
  fs::remove(root / "top");
  std::set<std::string> expected = {"big"}, dirs = {"big"};
  for (int i = 0; i < 300; ++i) {
    const std::string sub = "big/s" + std::to_string(i);
    fs::create_directories(root / sub / "deeper");
    expected.insert({sub, sub + "/deeper"});
    dirs.insert({sub, sub + "/deeper"});
    for (int f = 0; f < 4; ++f) {
      std::ofstream(root / sub / "deeper" / std::to_string(f)) << f;
      expected.insert(sub + "/deeper/" + std::to_string(f));
    }
  }
  std::mutex m;
  std::set<std::string> entered, left;
  std::map<std::string, std::thread::id> seen_by;
  std::vector<std::string> errors;
  const auto another_thread_entered = [&] {
    std::lock_guard lock(m);
    for (const auto& [path, id] : seen_by)
      if (id != std::this_thread::get_id()) return true;
    return false;
  };
  walk_tree(root, {.enter = [&](const WalkEntry& e) {
                     // Without waiting for time: when big/s0 comes, the other thread waits
                     // for work; when big/s1 comes, it got s0 (it is awake or has entered).
                     if (e.path == "big/s0")
                       while (!other_threads_sleep()) std::this_thread::yield();
                     if (e.path == "big/s1")
                       while (!another_thread_entered() && !other_threads_sleep()) std::this_thread::yield();
                     std::lock_guard lock(m);
                     if (!entered.insert(e.path).second) errors.push_back("entered twice: " + e.path);
                     seen_by[e.path] = std::this_thread::get_id();
                     return Visit::descend;
                   },
                   .leave = [&](const WalkEntry& e) {
                     std::lock_guard lock(m);
                     for (const auto& p : expected)
                       if (p.rfind(e.path + "/", 0) == 0 && (!entered.count(p) || (dirs.count(p) && !left.count(p))))
                         errors.push_back("left " + e.path + " before " + p);
                     if (!left.insert(e.path).second) errors.push_back("left twice: " + e.path);
                   }},
            {.threads = 2, .stat = false});
  EXPECT_EQ(entered, expected);
  EXPECT_EQ(left, dirs);
  EXPECT_EQ(errors, std::vector<std::string>{});
  std::set<std::thread::id> threads;
  for (const auto& [path, id] : seen_by)
    if (path.rfind("big/", 0) == 0) threads.insert(id);
  EXPECT_EQ(threads.size(), 2u) << "the second thread got no part of big/";
}

TEST_F(Tree, AnExceptionFromACallbackEndsTheWalkOnEveryThread) {
  for (int i = 0; i < 50; ++i) fs::create_directories(root / "a" / std::to_string(i) / "x");
  for (const unsigned threads : {1u, 2u}) {
    std::atomic<int> calls{0};
    EXPECT_THROW(walk_tree(root, {.enter = [&](const WalkEntry& e) {
                                    if (++calls == 20) throw std::runtime_error("boom " + e.path);
                                    return Visit::descend;
                                  }},
                           {.threads = threads}),
                 std::runtime_error);
    if (threads == 1) {
      EXPECT_EQ(calls.load(), 20);
    }
  }
}

TEST_F(Tree, InodeOrderVisitsADirectorysEntriesByInodeNumber) {
  for (int i = 0; i < 200; ++i) std::ofstream(root / "d" / ("n" + std::to_string(i * 7919 % 200))) << i;
  std::vector<ino_t> seen;
  walk_tree(root / "d", {.enter = [&](const WalkEntry& e) {
    seen.push_back(e.st.st_ino);
    return Visit::descend;
  }}, {.inode_order = true});
  EXPECT_EQ(seen.size(), 201u);  // and the symlink
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(Tree, OpenBeneathRefusesSymlinksAndEscapes) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(dir);
  UniqueFd ok(open_beneath(dir.get(), "a/b/c/f", O_RDONLY));
  EXPECT_TRUE(ok);
  EXPECT_LT(open_beneath(dir.get(), "d/link/secret", O_RDONLY), 0);
  EXPECT_LT(open_beneath(dir.get(), "../" + outside.filename().string() + "/secret", O_RDONLY), 0);
  EXPECT_LT(open_beneath(dir.get(), outside.string() + "/secret", O_RDONLY), 0);
}

TEST_F(Tree, SameVersionComparesTypeModeOwnerSizeAndMtime) {
  struct stat a {}, b {};
  ASSERT_EQ(::lstat((root / "top").c_str(), &a), 0);
  b = a;
  EXPECT_TRUE(same_version(a, b));
  b.st_mtim.tv_nsec += 1;
  EXPECT_FALSE(same_version(a, b));
  b = a;
  b.st_mode ^= 0001;
  EXPECT_FALSE(same_version(a, b));
  b = a;
  b.st_uid += 1;
  EXPECT_FALSE(same_version(a, b));
  b = a;
  b.st_size += 1;
  EXPECT_FALSE(same_version(a, b));
}

TEST_F(Tree, XattrSignatureIgnoresOrder) {
  std::ofstream(root / "x") << "x";
  std::ofstream(root / "y") << "y";
  if (::setxattr((root / "x").c_str(), "user.one", "1", 1, 0) != 0) GTEST_SKIP() << "no user xattrs here";
  ::setxattr((root / "x").c_str(), "user.two", "2", 1, 0);
  ::setxattr((root / "y").c_str(), "user.two", "2", 1, 0);
  ::setxattr((root / "y").c_str(), "user.one", "1", 1, 0);
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_EQ(xattr_signature(dir.get(), "x"), xattr_signature(dir.get(), "y"));
  EXPECT_NE(xattr_signature(dir.get(), "x"), xattr_signature(dir.get(), "top"));
  EXPECT_TRUE(has_xattrs(dir.get(), "x"));
  EXPECT_FALSE(has_xattrs(dir.get(), "top"));
}
