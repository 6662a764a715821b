// bkp prune under a mounted bkpfs (issue 9, item 6): pruned snapshots leave every view
// without a remount, the daemon stays up, and readers of kept snapshots never see an error
// while the prune runs.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

bool listed(const fs::path& dir, const std::string& name) {
  for (const std::string& n : list_dir(dir))
    if (n == name) return true;
  return false;
}

TEST(PruneLive, PrunedSnapshotsLeaveEveryViewAndReadersOfKeptOnesNeverFail) {
  if (bkp_binary().empty()) GTEST_SKIP() << "bkp is not built";
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back(snapshot_name(i * 86400));  // one a day
  for (const std::string& n : names) add_snapshot(dest, "0", n);
  for (int i = 0; i < 3000; ++i) write_file(dest / "0" / names[0] / "src/bulk" / std::to_string(i), "bulk\n");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const std::string kept = names.back();
  ASSERT_EQ(read_file(m / "by-date" / kept / "src/file.txt"), "snapshot " + kept + "\n");

  // Readers of the snapshot that stays, all through the prune.
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      while (!done) {
        try {
          if (read_file(m / "by-date" / kept / "src/file.txt") != "snapshot " + kept + "\n") ++errors;
          if (read_file(m / "latest/src/file.txt") != "snapshot " + kept + "\n") ++errors;
          if (list_dir(m / "by-date" / kept / "src").empty()) ++errors;
        } catch (const std::exception&) {
          ++errors;
        }
        ++reads;
      }
    });
  const auto r = run({bkp_binary(), "prune", "-d", dest.string(), "--keep-last", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> left(names.end() - 3, names.end());
  EXPECT_TRUE(eventually([&] { return list_dir(m / "by-date") == left; }, 3000ms)) << "pruned snapshots still listed";
  ASSERT_TRUE(m.wait_for_check());
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(errors.load(), 0) << "a reader of a kept snapshot saw an error during the prune";
  for (const std::string& gone : std::vector<std::string>(names.begin(), names.end() - 3)) {
    EXPECT_FALSE(fs::exists(m / "by-date" / gone)) << gone;
    EXPECT_FALSE(listed(m / "changes", gone)) << gone;
  }
  EXPECT_FALSE(fs::exists(m / "by-series" / names.front())) << "the series is still named by a pruned snapshot";
  EXPECT_EQ(list_dir(m / "by-series" / left.front()), left) << "the series is now named by its first kept snapshot";
  EXPECT_EQ(fs::read_symlink(m / "latest"), "by-date/" + kept);
  EXPECT_EQ(::waitpid(m.pid(), nullptr, WNOHANG), 0) << "bkpfs died";
}

}  // namespace
}  // namespace bkpfstest
