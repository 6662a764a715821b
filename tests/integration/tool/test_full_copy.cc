// The full run's own copy of plain files (tool/copy_plain_files.h): rsync --ignore-existing
// trusts every file it made, so a snapshot made that way must be what rsync alone makes,
// whatever the files, the user, or a source that changes meanwhile.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "copy_plain_files.h"
#include "harness.h"
#include "rsync_command.h"
#include "source_traits.h"
#include "store.h"

using namespace bkptest;

namespace {

constexpr uid_t kNobody = 65534;

void set_mtime(const fs::path& p, time_t sec, long nsec) {
  const timespec times[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// chown clears set-id bits, so the mode comes after the owner, as rsync does it.
void own(const fs::path& p, uid_t uid, gid_t gid, mode_t mode) {
  ASSERT_EQ(::lchown(p.c_str(), uid, gid), 0) << p;
  ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
}

// Ten plain files that a full run copies itself, of every kind the copy must get exactly
// right; with `others`, entries it must leave to rsync as well.
void make_tree(const fs::path& src, bool others) {
  write_file(src / "empty", "");
  write_file(src / "one-byte", "1", 0600);
  write_file(src / "dir/page", std::string(4096, 'p'), 0640);
  write_file(src / "dir/sub/new\nline", "newline in the name\n");
  write_file(src / "dir/sub/raw\xff\xfe", "not UTF-8\n");
  write_file(src / "-dash", "leading dash\n");
  write_file(src / "setuid", "#!/bin/sh\n");
  own(src / "setuid", 4321, 8765, 04755);
  write_file(src / "setgid-sticky", "x\n");
  own(src / "setgid-sticky", 0, 8765, 03711);
  write_file(src / "unreadable", "root reads it anyway\n", 0000);
  write_big_file(src / "dir/big", (9 << 20) + 123);
  set_mtime(src / "dir/page", 1234567890, 123456789);
  set_mtime(src / "dir/big", 1700000000, 999999999);
  if (others) {
    write_file(src / "linked-a", "two names\n");
    fs::create_hard_link(src / "linked-a", src / "dir/linked-b");
    {
      std::ofstream holes(src / "holes");
      holes.seekp(8 << 20);
      holes << "end";
    }
    write_file(src / "zeros", std::string(64 << 10, '\0'));  // rsync --sparse stores it as a hole
    write_file(src / "tagged", "xattr\n");
    EXPECT_EQ(::setxattr((src / "tagged").c_str(), "user.note", "kept", 4, 0), 0);
    write_file(src / "acl", "acl\n");
    EXPECT_EQ(run({"setfacl", "-m", "u:4321:r", (src / "acl").string()}).status, 0);
    fs::create_symlink("dir/page", src / "symlink");
    EXPECT_EQ(::mkfifo((src / "fifo").c_str(), 0644), 0);
    EXPECT_EQ(::mknod((src / "null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  }
  ::chmod((src / "dir/sub").c_str(), 0750);
  set_mtime(src / "dir/sub", 1111111111, 111);
}

const std::set<std::string> kPlain = {"empty", "one-byte", "dir/page", "dir/sub/new\nline", "dir/sub/raw\xff\xfe",
                                      "-dash", "setuid", "setgid-sticky", "unreadable", "dir/big"};

std::set<std::string> regular_files(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (fs::is_regular_file(e.symlink_status())) out.insert(e.path().lexically_relative(root).string());
  return out;
}

// rsync as bkp runs it for a full snapshot of `src` into `target` (DEST/0/<snapshot>).
RunResult rsync_as_bkp(const fs::path& src, const fs::path& target, const bkp::SourceTraits& traits, bool precopied,
                       const RunOptions& options = {}) {
  bkp::RsyncPlan plan;
  plan.sources = {src};
  plan.target = target;
  plan.numeric_ids = ::geteuid() == 0 && options.uid == static_cast<uid_t>(-1);
  plan.acls = plan.xattrs = traits.xattrs;
  plan.sparse = traits.sparse;
  plan.prelinked = precopied;
  return run(bkp::build_rsync_argv(plan), options);
}

bkp::PlainCopyPolicy policy_for(const bkp::SourceTraits& traits) {
  return {.skip_xattrs = traits.xattrs, .sparse = traits.sparse};
}

uint64_t rsync_stat(const std::string& out, const std::string& label) {
  const auto at = out.find(label + ": ");
  return at == std::string::npos ? UINT64_MAX : std::stoull(out.substr(at + label.size() + 2));
}

class PlainCopy : public ::testing::TestWithParam<bool> {};

}  // namespace

// The copy alone holds exactly the plain files; with rsync --ignore-existing after it, the
// tree is identical to rsync's alone: content, mode, owner, times, xattrs, inode groups,
// holes. Without other entries the copy goes through sendfile; with holes and xattrs in
// the source, through the check for zero sectors.
TEST_P(PlainCopy, ThenRsyncMakesWhatRsyncAloneMakes) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  make_tree(src, GetParam());
  const bkp::SourceTraits traits = bkp::scan_source_traits({src});
  ASSERT_EQ(traits.xattrs, GetParam());
  ASSERT_EQ(traits.sparse, GetParam());

  fs::create_directories(tmp / "both");
  const bkp::PlainCopyStats stats = bkp::copy_plain_files(src, tmp / "both/src", policy_for(traits));
  EXPECT_EQ(stats.files, kPlain.size());
  EXPECT_EQ(stats.directories, 3u);  // the root, dir, dir/sub
  EXPECT_EQ(regular_files(tmp / "both/src"), kPlain);
  const RunResult rest = rsync_as_bkp(src, tmp / "both", traits, true);
  ASSERT_EQ(rest.status, 0) << rest.err;

  const RunResult alone = rsync_as_bkp(src, tmp / "alone", traits, false);
  ASSERT_EQ(alone.status, 0) << alone.err;
  const std::string transferred = "Number of regular files transferred";
  EXPECT_EQ(rsync_stat(rest.out, transferred) + kPlain.size(), rsync_stat(alone.out, transferred)) << rest.out;
  EXPECT_EQ(manifest(tmp / "both/src"), manifest(tmp / "alone/src"));
  if (!GetParam()) EXPECT_EQ(manifest(tmp / "both/src"), manifest(src));  // rsync --sparse makes `zeros` a hole
}

INSTANTIATE_TEST_SUITE_P(SourceWithOtherEntries, PlainCopy, ::testing::Bool());

// Through bkp, into another filesystem (a journaled ext4 image: sendfile crosses
// filesystems, copy_file_range would not): the snapshot is rsync's alone, the log says
// what bkp copied, and the journal counts every file once as rsync alone would.
TEST(FullCopy, BkpFullRunIsRsyncsAloneAcrossFilesystems) {
  TempDir tmp;
  LoopFilesystem ext4(tmp.path(), "ext4", 200, {"-q", "-F"});
  if (!ext4.skip_reason().empty()) GTEST_SKIP() << ext4.skip_reason();
  const fs::path src = tmp / "src", dest = ext4.path() / "dest";
  make_tree(src, true);
  const auto r = run_bkp({"-v", "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("copied 10 plain files"), std::string::npos) << r.err;
  const bkp::Destination store = bkp::Destination::scan(dest);
  const auto* snap = store.newest_complete();
  ASSERT_NE(snap, nullptr);

  const RunResult alone = rsync_as_bkp(src, ext4.path() / "alone", bkp::scan_source_traits({src}), false);
  ASSERT_EQ(alone.status, 0) << alone.err;
  EXPECT_EQ(manifest(snap->path / "src"), manifest(ext4.path() / "alone/src"));
  EXPECT_EQ(snap->journal.at("files"), std::to_string(rsync_stat(alone.out, "Number of regular files transferred")));
  EXPECT_EQ(snap->journal.at("bytes"), std::to_string(rsync_stat(alone.out, "Total transferred file size")));
}

// As another user, rsync keeps the owner and group only of the user's own files in its
// own groups; bkp copies only those itself, and leaves the unreadable one to rsync, which
// reports it (exit 23, bkp exit 3) exactly as rsync alone does.
TEST(FullCopy, AsAnotherUserOnlyItsOwnFilesAreCopiedByBkp) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  write_file(src / "own.txt", "mine\n", 0640);
  own(src / "own.txt", kNobody, kNobody, 0640);
  write_file(src / "own-setgid", "mine too\n");
  own(src / "own-setgid", kNobody, kNobody, 02750);
  write_file(src / "roots.txt", "root's, readable\n", 0644);
  write_file(src / "other-group.txt", "a group nobody is not in\n");
  own(src / "other-group.txt", kNobody, 4321, 0644);
  write_file(src / "unreadable", "not even for its owner\n");
  own(src / "unreadable", kNobody, kNobody, 0000);
  for (const char* d : {"dest", "alone"}) {
    fs::create_directories(tmp / d);
    ::chown((tmp / d).c_str(), kNobody, kNobody);
  }
  const RunOptions as_nobody{.uid = kNobody};
  const auto r = run_bkp({"-v", "-s", src.string(), "-d", (tmp / "dest").string()}, as_nobody);
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("copied 2 plain files"), std::string::npos) << r.err;
  const bkp::Destination store = bkp::Destination::scan(tmp / "dest");
  const auto* snap = store.newest_complete();
  ASSERT_NE(snap, nullptr);
  const RunResult alone = rsync_as_bkp(src, tmp / "alone", {}, false, as_nobody);
  EXPECT_EQ(alone.status, 23) << alone.err;
  EXPECT_EQ(manifest(snap->path / "src"), manifest(tmp / "alone/src"));
  EXPECT_FALSE(fs::exists(snap->path / "src/unreadable"));
}

// A file rewritten in place, front to back, again and again while it is copied: at any
// instant it holds generation g up to some offset and g-1 after it. A copy the copier
// keeps is such an instant (each write changes mtime and ctime, so a read that overlapped
// one is dropped and left to rsync), never a read that the writer lapped.
TEST(FullCopy, AFileRewrittenDuringTheCopyIsOneMomentOfItOrLeftToRsync) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  constexpr size_t kWords = 2 << 20, kChunkWords = 16 << 10;  // 8 MiB in chunks of 64 KiB
  write_file(src / "busy", std::string(kWords * 4, '\0'));
  write_file(src / "quiet", "never written meanwhile\n");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    const int fd = ::open((src / "busy").c_str(), O_WRONLY | O_CLOEXEC);
    std::vector<uint32_t> chunk(kChunkWords);
    for (uint32_t generation = 1; !done; ++generation) {
      std::fill(chunk.begin(), chunk.end(), generation);
      for (size_t at = 0; at < kWords && !done; at += kChunkWords)
        ASSERT_EQ(::pwrite(fd, chunk.data(), kChunkWords * 4, static_cast<off_t>(at * 4)), static_cast<ssize_t>(kChunkWords * 4));
    }
    ::close(fd);
  });
  // One moment of the file: generations never rise along it and span at most two.
  auto one_moment = [&](const std::string& bytes) {
    if (bytes.size() != kWords * 4) return false;
    std::vector<uint32_t> words(kWords);
    std::memcpy(words.data(), bytes.data(), bytes.size());
    return std::is_sorted(words.rbegin(), words.rend()) && words.front() - words.back() <= 1;
  };
  int kept = 0;
  for (int round = 0; round < 20; ++round) {
    const fs::path target = tmp / ("copy" + std::to_string(round));
    bkp::copy_plain_files(src, target, {});
    EXPECT_EQ(read_file(target / "quiet"), "never written meanwhile\n");
    if (!fs::exists(target / "busy")) continue;  // left to rsync
    ++kept;
    EXPECT_TRUE(one_moment(read_file(target / "busy"))) << "a torn copy in round " << round;
  }
  done = true;
  writer.join();
  std::cout << "kept " << kept << " of 20 copies of the file being rewritten\n";
}

// A file that grows while it is copied, by bkp's copy or by rsync: the snapshot holds a
// prefix of whole records, never bytes from beyond the size it recorded.
TEST(FullCopy, AFileGrowingDuringTheRunIsAWholePrefixInTheSnapshot) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  constexpr size_t kRecord = 4096;
  auto record = [](uint32_t n) {
    std::string r(kRecord, '\0');
    for (size_t i = 0; i < kRecord; i += 4) std::memcpy(r.data() + i, &n, 4);
    r[0] = 'R';  // no record is all zeros
    return r;
  };
  constexpr uint32_t kInitial = 1024, kMost = 8192;  // 4 MiB, growing to at most 32 MiB
  std::string initial;
  for (uint32_t n = 0; n < kInitial; ++n) initial += record(n);
  write_file(src / "growing.log", initial);
  write_file(src / "other.txt", "other\n");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    const int fd = ::open((src / "growing.log").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    for (uint32_t n = kInitial; !done && n < kMost; ++n) {
      const std::string r = record(n);
      ASSERT_EQ(::write(fd, r.data(), kRecord), static_cast<ssize_t>(kRecord));
      if (n % 16 == 0) ::fdatasync(fd);  // keeps it growing through the run rather than in one burst
    }
    ::close(fd);
  });
  auto whole_prefix = [&](const fs::path& copy) {
    const std::string bytes = read_file(copy);
    if (bytes.size() % kRecord != 0 || bytes.size() < initial.size()) return false;
    for (uint32_t n = 0; n < bytes.size() / kRecord; ++n)
      if (bytes.compare(n * kRecord, kRecord, record(n)) != 0) return false;
    return true;
  };
  for (int round = 0; round < 10; ++round) {
    const fs::path target = tmp / ("copy" + std::to_string(round));
    bkp::copy_plain_files(src, target, {});
    if (fs::exists(target / "growing.log")) {
      EXPECT_TRUE(whole_prefix(target / "growing.log")) << "round " << round;
    }
  }
  const auto r = run_bkp({"-q", "-s", src.string(), "-d", (tmp / "dest").string()});
  done = true;
  writer.join();
  ASSERT_EQ(r.status, 0) << r.err;
  const bkp::Destination store = bkp::Destination::scan(tmp / "dest");
  const auto* snap = store.newest_complete();
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(whole_prefix(snap->path / "src/growing.log"));
  EXPECT_EQ(read_file(snap->path / "src/other.txt"), "other\n");
}

// Killed while it copies: the partial snapshot holds only whole files with their final
// metadata (each is linked under its name only once complete), and the next run, which
// reuses them, makes a snapshot equal to the source.
TEST(FullCopy, AKilledFullRunLeavesOnlyWholeFiles) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  for (int i = 0; i < 400; ++i)
    write_big_file(src / ("d" + std::to_string(i % 8)) / ("f" + std::to_string(i)), 128 << 10, static_cast<char>('a' + i % 26));
  write_big_file(src / "big/one", 64 << 20, 'x');
  write_big_file(src / "big/two", 64 << 20, 'y');
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string b = bkp_binary();
    ::execl(b.c_str(), b.c_str(), "-q", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
    ::_exit(127);
  }
  // Kill it once the copy has begun: some file has a name in the new snapshot.
  fs::path snapshot;
  const bool copying = eventually([&] {
    std::error_code ec;
    for (const auto& s : fs::directory_iterator(dest / "0", ec))
      if (s.is_directory(ec))
        for (const auto& e : fs::recursive_directory_iterator(s.path() / "src", ec))
          if (e.is_regular_file(ec)) {
            snapshot = s.path();
            return true;
          }
    return false;
  });
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(copying) << "never saw a copied file";
  ASSERT_TRUE(wait_until_no_process_mentions(dest.string()));
  // Every regular file there is whole, with the source's mode, owner, size and mtime.
  std::istringstream lines(manifest(src, false));
  std::map<std::string, std::string> source_line;
  for (std::string line; std::getline(lines, line);) source_line[line.substr(0, line.find(' '))] = line;
  std::istringstream copied(manifest(snapshot / "src", false));
  int files = 0;
  for (std::string line; std::getline(copied, line);) {
    const std::string path = line.substr(0, line.find(' '));
    if (!fs::is_regular_file(fs::symlink_status(snapshot / "src" / path))) continue;
    ++files;
    EXPECT_EQ(line, source_line[path]);
  }
  EXPECT_GT(files, 0);
  std::cout << files << " regular files in the killed run's snapshot\n";
  const auto r = run_bkp({"-q", "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(manifest(bkp::Destination::scan(dest).newest_complete()->path / "src"), manifest(src));
}

// Excludes are rsync's filter rules: bkp copies nothing itself then.
TEST(FullCopy, ARunWithExcludesLeavesEverythingToRsync) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  write_file(src / "keep.txt", "kept\n");
  write_file(src / "cache/skip.bin", "excluded\n");
  const auto r = run_bkp({"-v", "-s", src.string(), "-d", (tmp / "dest").string(), "--exclude", "cache/"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("plain files"), std::string::npos) << r.err;
  const bkp::Destination store = bkp::Destination::scan(tmp / "dest");
  const auto* snap = store.newest_complete();
  EXPECT_EQ(regular_files(snap->path / "src"), std::set<std::string>{"keep.txt"});
}

// A destination inside the source: rsync alone copies the new snapshot's start (an empty
// folder) into it; bkp copies nothing itself, so it gets no further than that either.
TEST(FullCopy, ADestinationInsideTheSourceIsLeftToRsync) {
  TempDir tmp;
  const fs::path src = tmp / "src";
  write_file(src / "a/f", "f\n");
  const auto r = run_bkp({"-v", "-s", src.string(), "-d", (src / "dest").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("copied 0 plain files"), std::string::npos) << r.err;
  const bkp::Destination store = bkp::Destination::scan(src / "dest");
  const auto* snap = store.newest_complete();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(read_file(snap->path / "src/a/f"), "f\n");
  EXPECT_FALSE(fs::exists(snap->path / "src/dest/0" / snap->name / "src"));
}
