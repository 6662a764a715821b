// Block sharing on real reflink filesystems (XFS with reflink=1, btrfs) made by the test
// on loop-mounted image files; ext4 (where the tests' temporary folders live) has none.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

constexpr uint64_t kMiB = 1 << 20;

void append(const fs::path& file, uint64_t bytes, char c) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  const std::string block(bytes, c);
  out << block;
}

void overwrite(const fs::path& file, uint64_t offset, const std::string& bytes) {
  std::fstream out(file, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(static_cast<std::streamoff>(offset));
  out << bytes;
}

class Reflink : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string type = GetParam();
    loop = type == "xfs" ? std::make_unique<LoopFilesystem>(tmp.path(), type, 600, std::vector<std::string>{"-q", "-m", "reflink=1"})
                         : std::make_unique<LoopFilesystem>(tmp.path(), type, 400, std::vector<std::string>{"-q"});
    if (!loop->skip_reason().empty()) GTEST_SKIP() << loop->skip_reason();
    dest = loop->path() / "dest";
    write_big_file(src / "vm.img", 128 * kMiB, 'v');
    write_file(src / "notes.txt", "notes\n");
  }
  RunResult backup(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-s", src.string(), "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bkp(args);
  }
  fs::path newest() { return bkp::Destination::scan(dest).newest_complete()->path; }

  TempDir tmp;
  std::unique_ptr<LoopFilesystem> loop;
  fs::path src = tmp / "src";
  fs::path dest;
};

}  // namespace

TEST_P(Reflink, SmallChangeToABigFileCostsAboutTheChange) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = newest();
  const std::string first_state = manifest(first, false);
  append(src / "vm.img", kMiB, 'n');
  overwrite(src / "vm.img", 50 * kMiB + 123, std::string(40 << 10, 'o'));
  const uint64_t before = loop->used();
  const auto r = backup({"-i"});
  ASSERT_EQ(r.status, 0) << r.err;
  const uint64_t cost = loop->used() - before;
  const uint64_t size = fs::file_size(src / "vm.img");
  EXPECT_LT(cost, size / 50) << "increment cost " << cost << " bytes for a " << size << "-byte file; " << r.err;
  EXPECT_NE(r.err.find("shared"), std::string::npos) << r.err;
  const fs::path second = newest();
  EXPECT_EQ(manifest(src, false), manifest(second / "src", false));
  EXPECT_EQ(manifest(first, false), first_state);
  EXPECT_EQ(inode_of(first / "src/notes.txt"), inode_of(second / "src/notes.txt"));
  EXPECT_NE(inode_of(first / "src/vm.img"), inode_of(second / "src/vm.img"));
  // bkp list shows what the increment really added.
  const auto list = run_bkp({"list", "-d", dest.string(), "--json"});
  const auto at = list.out.rfind("\"added_bytes\": ");
  ASSERT_NE(at, std::string::npos) << list.out;
  EXPECT_LT(std::stoull(list.out.substr(at + 15)), size / 50) << list.out;
}

TEST_P(Reflink, NoReflinkStoresChangedFilesWhole) {
  ASSERT_EQ(backup().status, 0);
  append(src / "vm.img", kMiB, 'n');
  const uint64_t before = loop->used();
  ASSERT_EQ(backup({"-i", "--no-reflink"}).status, 0);
  EXPECT_GT(loop->used() - before, 128 * kMiB);
}

TEST_P(Reflink, FullRunSharesOnlyWhenAsked) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = newest();
  uint64_t before = loop->used();
  ASSERT_EQ(backup({"--share-blocks-with-previous"}).status, 0);
  EXPECT_LT(loop->used() - before, 8 * kMiB);
  const auto store = bkp::Destination::scan(dest);
  const auto* old = store.find_snapshot(first.filename());
  EXPECT_NE(old->series, "0") << "a full run starts a new series";
  EXPECT_NE(inode_of(newest() / "src/vm.img"), inode_of(old->path / "src/vm.img"));
  before = loop->used();
  ASSERT_EQ(backup().status, 0);  // by default, an independent copy
  EXPECT_GT(loop->used() - before, 128 * kMiB);
}

// bkp copies plain files itself in a full run; even from a source on the same reflink
// filesystem it writes new blocks (sendfile, never copy_file_range, which would clone).
TEST_P(Reflink, AFullRunFromTheSameFilesystemSharesNoBlocks) {
  const fs::path local = loop->path() / "src";
  write_big_file(local / "vm.img", 128 * kMiB, 'l');
  const uint64_t before = loop->used();
  const auto r = run_bkp({"-v", "-s", local.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("copied 1 plain files"), std::string::npos) << r.err;
  EXPECT_GT(loop->used() - before, 128 * kMiB);
  EXPECT_EQ(manifest(local), manifest(newest() / "src"));
}

TEST_P(Reflink, KilledRunLeavesOlderSnapshotsIntact) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = newest();
  const std::string first_state = manifest(first, false);
  write_big_file(src / "vm.img", 128 * kMiB, 'w');
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  // Kill it in the middle, once rsync is writing the changed file into the new snapshot.
  const bool copying = eventually([&] {
    std::error_code ec;
    for (const auto& snap : fs::directory_iterator(dest / "0", ec))
      for (const auto& e : fs::directory_iterator(snap.path() / "src", ec))
        if (e.path().filename().string().starts_with(".vm.img.") && e.file_size(ec) > 0) return true;
    return false;
  });
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(copying) << "never saw rsync copying the changed file";
  ASSERT_TRUE(wait_until_no_process_mentions(dest.string())) << "rsync did not exit after bkp was killed";
  EXPECT_EQ(manifest(first, false), first_state);
  const auto r = backup({"-i"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(manifest(first, false), first_state);
  EXPECT_EQ(manifest(src, false), manifest(newest() / "src", false));
  EXPECT_TRUE(bkp::Destination::scan(dest).current()->partials().empty());
}

INSTANTIATE_TEST_SUITE_P(Filesystems, Reflink, ::testing::Values("xfs", "btrfs"));

TEST(NoReflink, Ext4SaysSoOnceAndBehavesAsBefore) {
  TempDir tmp;
  write_big_file(tmp / "src/big", 4 * kMiB);
  ASSERT_EQ(run_bkp({"-s", (tmp / "src").string(), "-d", (tmp / "dest").string()}).status, 0);
  append(tmp / "src/big", 4096, 'x');
  const auto r = run_bkp({"-i", "-s", (tmp / "src").string(), "-d", (tmp / "dest").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  size_t lines = 0;
  for (size_t at = 0; (at = r.err.find("block sharing is unavailable", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 1u) << r.err;
  EXPECT_EQ(bkp::Destination::scan(tmp / "dest").newest_complete()->journal.count("shared_bytes"), 0u);
}
