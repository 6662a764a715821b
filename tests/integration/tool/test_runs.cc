// Full and incremental runs, series rotation and interrupted runs, with the real rsync.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

class Runs : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "same.txt", "unchanged\n");
    write_file(src / "changes.txt", "version 1\n");
    write_file(src / "goes.txt", "deleted later\n");
    write_file(src / "sub/deep.txt", "deep\n");
  }
  RunResult backup(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-s", src.string(), "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bkp(args);
  }
  fs::path snap(size_t i, const std::string& series = "0") {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dest / series))  // snapshots, not bkp's hidden .bkp-checksums
      if (e.is_directory() && e.path().filename().string().front() != '.') names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return dest / series / names.at(i);
  }

  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
};

}  // namespace

TEST_F(Runs, FullRunMakesTheOriginalLayout) {
  const auto r = backup();
  ASSERT_EQ(r.status, 0) << r.err;
  const auto l = layout(dest);
  ASSERT_EQ(l.series, std::vector<std::string>{"0"});
  ASSERT_EQ(l.snapshots.size(), 1u);
  EXPECT_EQ(read_file(dest / "0" / l.snapshots[0] / "src/sub/deep.txt"), "deep\n");
  const auto j = journal(dest);
  EXPECT_NE(j.find("[" + l.snapshots[0] + "]\ntimestamp = " + l.snapshots[0] + "\nstatus = complete\n"), std::string::npos) << j;
  EXPECT_NE(j.find("sources = [\"" + src.string() + "\"]"), std::string::npos) << j;
  EXPECT_NE(j.find("backup = " + (dest / "0").string()), std::string::npos) << j;
  EXPECT_EQ(j.find("[ACTIVE]"), std::string::npos);
  EXPECT_EQ(manifest(src, false), manifest(dest / "0" / l.snapshots[0] / "src", false));
}

TEST_F(Runs, IncrementalLinksUnchangedCopiesChangedDropsDeleted) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = snap(0);
  const std::string before = manifest(first, false);
  write_file(src / "changes.txt", "version 2, longer\n");
  fs::remove(src / "goes.txt");
  const auto r = backup({"-i"});
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path second = snap(1);
  EXPECT_EQ(inode_of(first / "src/same.txt"), inode_of(second / "src/same.txt"));
  EXPECT_EQ(inode_of(first / "src/sub/deep.txt"), inode_of(second / "src/sub/deep.txt"));
  EXPECT_NE(inode_of(first / "src/changes.txt"), inode_of(second / "src/changes.txt"));
  EXPECT_EQ(read_file(second / "src/changes.txt"), "version 2, longer\n");
  EXPECT_FALSE(fs::exists(second / "src/goes.txt"));
  EXPECT_EQ(read_file(first / "src/changes.txt"), "version 1\n");
  // The older snapshot is untouched (link counts aside, which sharing raises).
  EXPECT_EQ(manifest(first, false), before);
  EXPECT_NE(journal(dest).find("previous = " + first.filename().string()), std::string::npos);
}

TEST_F(Runs, ModeOrOwnerChangeNeverRewritesHistory) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = snap(0);
  const std::string before = manifest(first, false);
  ::chmod((src / "same.txt").c_str(), 0600);
  ASSERT_EQ(::chown((src / "sub/deep.txt").c_str(), 1234, 5678), 0);
  ASSERT_EQ(::setxattr((src / "changes.txt").c_str(), "user.tag", "new", 3, 0), 0);
  ASSERT_EQ(backup({"-i"}).status, 0);
  const fs::path second = snap(1);
  EXPECT_EQ(manifest(first, false), before);  // 0644 and root-owned as they were
  struct stat st {};
  ::lstat((second / "src/same.txt").c_str(), &st);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ::lstat((second / "src/sub/deep.txt").c_str(), &st);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_NE(inode_of(first / "src/same.txt"), inode_of(second / "src/same.txt"));
  EXPECT_NE(inode_of(first / "src/changes.txt"), inode_of(second / "src/changes.txt"));
  EXPECT_EQ(manifest(src, false), manifest(second / "src", false));
}

TEST_F(Runs, FullRunRotatesTheSeriesAndSharesNoInode) {
  ASSERT_EQ(backup().status, 0);
  ASSERT_EQ(backup({"-i"}).status, 0);
  const std::string newest = snap(1).filename().string();
  const auto r = backup();
  ASSERT_EQ(r.status, 0) << r.err;
  const auto l = layout(dest);
  ASSERT_EQ(l.series, (std::vector<std::string>{"0", newest}));
  EXPECT_EQ(l.snapshots.size(), 1u);
  EXPECT_TRUE(fs::exists(dest / newest / "cfg.ini"));
  EXPECT_NE(inode_of(dest / newest / newest / "src/same.txt"), inode_of(snap(0) / "src/same.txt"));
  const auto store = bkp::Destination::scan(dest);
  EXPECT_EQ(store.complete_count(), 3u);
}

TEST_F(Runs, IncrementalWithoutSeriesFallsBackToFull) {
  const auto r = backup({"-i"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("full snapshot instead"), std::string::npos) << r.err;
  EXPECT_NE(journal(dest).find("kind = full"), std::string::npos);
}

TEST_F(Runs, RunsInTheSameSecondMakeDistinctSnapshots) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(backup({"-i", "-q"}).status, 0);
  EXPECT_EQ(layout(dest).snapshots.size(), 3u);
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 3u);
}

TEST_F(Runs, KilledRunIsPartialThenReusedNeverUsedAsBase) {
  ASSERT_EQ(backup().status, 0);
  const fs::path first = snap(0);
  const std::string first_state = manifest(first, false);
  write_big_file(src / "big.bin", 400u << 20);

  // Start an incremental run and SIGKILL bkp while rsync is writing the big file.
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  const bool copying = eventually([&] {
    for (const auto& s : layout(dest).snapshots) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dest / "0" / s / "src", ec))
        if (e.path().filename().string().rfind(".big.bin.", 0) == 0 && e.file_size(ec) > 0) return true;
    }
    return false;
  });
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(copying) << "never saw rsync copying the big file";
  ASSERT_TRUE(wait_until_no_process_mentions(dest.string())) << "rsync did not exit on its SIGTERM";

  auto store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 1u);
  ASSERT_EQ(store.current()->partials().size(), 1u);
  const std::string partial = store.current()->partials()[0]->name;
  EXPECT_NE(journal(dest).find("[ACTIVE]"), std::string::npos);
  EXPECT_EQ(manifest(first, false), first_state);

  const auto r = backup({"-i"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("reusing files of partial snapshot"), std::string::npos) << r.err;
  store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 2u);
  EXPECT_TRUE(store.current()->partials().empty());
  EXPECT_FALSE(fs::exists(dest / "0" / partial));
  const auto* done = store.newest_complete();
  EXPECT_EQ(done->journal.at("previous"), first.filename().string());  // not the partial
  EXPECT_EQ(manifest(src, false), manifest(done->path / "src", false));
  EXPECT_EQ(manifest(first, false), first_state);
  EXPECT_EQ(journal(dest).find("[ACTIVE]"), std::string::npos);
}

TEST_F(Runs, DiscardPartialDeletesWhatAnInterruptedRunLeft) {
  ASSERT_EQ(backup().status, 0);
  // What a killed run leaves: [ACTIVE] and a folder with some of the files.
  const std::string partial = "2030-01-01_00:00:00";
  write_file(dest / "0" / partial / "src/same.txt", "unchanged\n");
  {
    std::ofstream j(dest / "0/cfg.ini", std::ios::app);
    j << "[ACTIVE]\ntimestamp = " << partial << "\nstatus = partial\nsources = [\"" << src.string() << "\"]\n\n";
  }
  const auto r = backup({"-i", "--discard-partial"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dest / "0" / partial));
  EXPECT_EQ(journal(dest).find("[ACTIVE]"), std::string::npos);
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 2u);
}
