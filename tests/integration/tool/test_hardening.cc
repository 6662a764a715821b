// Issue 8: nothing may ever delete a snapshot bkp cannot prove partial, nor write outside
// DEST. Damaged journals (a table of corruptions), a full disk, planted symlinks, hard-link
// groups that change between runs, leftovers of interrupted runs, deep paths, and kill -9
// at random moments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

// Every snapshot folder of every series, with a manifest of its content.
std::map<std::string, std::string> snapshot_folders(const fs::path& dest) {
  std::map<std::string, std::string> out;
  for (const auto& series : fs::directory_iterator(dest)) {
    if (!series.is_directory() || series.is_symlink()) continue;
    for (const auto& snap : fs::directory_iterator(series.path())) {
      const std::string name = snap.path().filename().string();
      if (snap.is_directory() && !snap.is_symlink() && name.size() == 19 && name[10] == '_')
        out[series.path().filename().string() + "/" + name] = manifest(snap.path(), false);
    }
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  return s;
}

// A destination with an older series and a current series, two complete snapshots each,
// made once and copied (hard links kept) for every case.
class DamagedJournal : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    base_ = new TempDir;
    const fs::path src = *base_ / "src", dest = *base_ / "dest";
    write_file(src / "a.txt", "a\n");
    write_file(src / "sub/b.txt", "b\n");
    for (const char* extra : {"", "-i", "", "-i"}) {
      std::vector<std::string> args = {"-q", "-s", src.string(), "-d", dest.string()};
      if (*extra) args.push_back(extra);
      ASSERT_EQ(run_bkp(args).status, 0);
      write_file(src / "a.txt", read_file(src / "a.txt") + "more\n");
    }
  }
  static void TearDownTestSuite() { delete base_; }

  void SetUp() override {
    ASSERT_EQ(run({"cp", "-a", (*base_ / "src").string(), (tmp / "src").string()}).status, 0);
    ASSERT_EQ(run({"cp", "-a", (*base_ / "dest").string(), dest.string()}).status, 0);
  }

  // Applies the named corruption to DEST/0/cfg.ini (or to the older series' journal).
  void corrupt(const std::string& how) {
    fs::path file = dest / "0/cfg.ini";
    if (how.starts_with("older:")) {
      for (const auto& e : fs::directory_iterator(dest))
        if (e.path().filename() != "0" && fs::exists(e.path() / "cfg.ini")) file = e.path() / "cfg.ini";
    }
    const std::string text = read_file(file);
    const auto names = bkp::Destination::scan(dest).current()->snapshots;
    const std::string newest = names.back().name, oldest = names.front().name;
    auto put = [&](const std::string& t) { write_file(file, t); };
    if (how == "empty") put("");
    else if (how == "whitespace") put("\n \n\t\n");
    else if (how == "half") put(text.substr(0, text.size() / 2));
    else if (how == "ten-bytes") put(text.substr(0, 10));
    else if (how == "last-line-cut") put(text.substr(0, text.rfind('\n', text.size() - 3) + 4));
    else if (how == "garbage") put(std::string("\x7f" "ELF\x02\x01\x01\x00\xff\xfe garbage\n\x01\x02", 20));
    else if (how == "completed") put(replace_all(text, "status = complete", "status = completed"));
    else if (how == "key-and-value-case") put(replace_all(text, "status = complete", "Status = Complete"));
    else if (how == "colon") put(replace_all(text, "status = complete", "status: complete"));
    else if (how == "bom") put("\xEF\xBB\xBF" + text);
    else if (how == "crlf") put(replace_all(text, "\n", "\r\n"));
    else if (how == "unclosed-bracket") put(replace_all(text, "[" + oldest + "]", "[" + oldest));
    else if (how == "missing") fs::remove(file);
    else if (how == "nul-bytes") put(text.substr(0, 40) + std::string(8, '\0') + text.substr(40));
    else if (how == "no-delimiter-line") put(text + "[" + newest + "]\nthis line has no delimiter\n");
    else if (how == "duplicated") put(text + text);
    else if (how == "directory") fs::remove(file), fs::create_directory(file);
    else if (how == "symlink") {
      write_file(tmp / "elsewhere.ini", text);
      fs::remove(file);
      fs::create_symlink(tmp / "elsewhere.ini", file);
    } else if (how == "fifo") fs::remove(file), ::mkfifo(file.c_str(), 0644);
    else if (how == "renamed-section") put(replace_all(text, "[" + oldest + "]", "[2020-01-01_00:00:00]"));
    else if (how == "active-names-newest")
      put(text + "[ACTIVE]\ntimestamp = " + newest + "\nstatus = partial\nsources = []\nbackup = /x\n\n");
    else if (how == "active-names-nothing")
      put(text + "[ACTIVE]\ntimestamp = 2030-01-01_00:00:00\nstatus = partial\nsources = []\nbackup = /x\n\n");
    else if (how == "status-key-missing") put(replace_all(text, "status = complete\n", ""));
    else if (how == "only-comments") put("# nothing here\n; nor here\n");
    else if (how == "long-garbage-line") put(text + std::string(100000, 'x') + "\n");
    else if (how == "older:garbage") put("garbage\n");
    else FAIL() << "unknown corruption " << how;
  }

  static inline TempDir* base_ = nullptr;
  TempDir tmp;
  fs::path dest = tmp / "dest";
};

}  // namespace

TEST_P(DamagedJournal, NeverCostsASnapshotAndRepairLetsRunsGoOn) {
  const auto folders = snapshot_folders(dest);
  corrupt(GetParam());
  const std::string before = destination_state(dest);
  const auto r = run_bkp({"-i", "-s", (tmp / "src").string(), "-d", dest.string()});
  ASSERT_TRUE(r.status == 0 || r.status == 1) << r.status << r.err;
  for (const auto& [name, content] : folders) {
    ASSERT_TRUE(fs::is_directory(dest / name)) << name << " was lost: " << r.err;
    EXPECT_EQ(manifest(dest / name, false), content) << name << " changed";
  }
  if (r.status == 1) {
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.err.find("cfg.ini") != std::string::npos || r.err.find(dest.string()) != std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bkp repair"), std::string::npos) << r.err;
    EXPECT_EQ(destination_state(dest), before) << "a refused run changed DEST";
    const auto repaired = run_bkp({"repair", "-d", dest.string()});
    ASSERT_EQ(repaired.status, 0) << repaired.err;
    const auto again = run_bkp({"-i", "-s", (tmp / "src").string(), "-d", dest.string()});
    ASSERT_EQ(again.status, 0) << repaired.out << again.err;
    for (const auto& [name, content] : folders) EXPECT_TRUE(fs::is_directory(dest / name)) << name << " lost after repair";
  }
}

INSTANTIATE_TEST_SUITE_P(Corruptions, DamagedJournal,
                         ::testing::Values("empty", "whitespace", "half", "ten-bytes", "last-line-cut", "garbage",
                                           "completed", "key-and-value-case", "colon", "bom", "crlf",
                                           "unclosed-bracket", "missing", "nul-bytes", "no-delimiter-line",
                                           "duplicated", "directory", "symlink", "fifo", "renamed-section",
                                           "active-names-newest", "active-names-nothing", "status-key-missing",
                                           "only-comments", "long-garbage-line", "older:garbage"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Hardening, LenientJournalsAreReadAsTheOriginalsConfigparserReadsThem) {
  TempDir tmp;
  write_file(tmp / "src/f", "f\n");
  const fs::path dest = tmp / "dest";
  ASSERT_EQ(run_bkp({"-s", (tmp / "src").string(), "-d", dest.string()}).status, 0);
  const std::string text = read_file(dest / "0/cfg.ini");
  write_file(dest / "0/cfg.ini", "\xEF\xBB\xBF" + replace_all(replace_all(text, "status = complete", "Status: complete"), "\n", "\r\n"));
  ASSERT_EQ(bkp::Destination::scan(dest).complete_count(), 1u);
  const auto r = run_bkp({"-i", "-s", (tmp / "src").string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).newest_complete()->journal.at("kind"), "incremental");
}

TEST(Hardening, AFullDiskWhileRsyncWritesLeavesThePartialAndFails) {
  TempDir tmp;
  LoopFilesystem small(tmp.path(), "ext4", 64, {"-q", "-N", "1024", "-b", "4096"});
  if (!small.skip_reason().empty()) GTEST_SKIP() << small.skip_reason();
  const fs::path src = tmp / "src", dest = small.path() / "dest";
  write_file(src / "first.txt", "1\n");
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  const auto before = snapshot_folders(dest);
  for (int i = 0; i < 3000; ++i) write_file(src / ("d" + std::to_string(i % 30)) / ("f" + std::to_string(i)), "x\n");
  const auto r = run_bkp({"-i", "-s", src.string(), "-d", dest.string()});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("left partial"), std::string::npos) << r.err;
  const auto store = bkp::Destination::scan(dest);
  EXPECT_EQ(store.complete_count(), 1u) << "a snapshot that could not be written was called complete";
  EXPECT_EQ(store.current()->partials().size(), 1u);
  for (const auto& [name, content] : before) EXPECT_EQ(manifest(dest / name, false), content);
}

TEST(Hardening, AJournalTemporaryFileSymlinkIsNeverFollowed) {
  TempDir tmp;
  write_file(tmp / "src/f", "f\n");
  write_file(tmp / "victim", "precious\n");
  const fs::path dest = tmp / "dest";
  ASSERT_EQ(run_bkp({"-s", (tmp / "src").string(), "-d", dest.string()}).status, 0);
  fs::create_symlink(tmp / "victim", dest / "0/.cfg.ini.tmp");
  ASSERT_EQ(run_bkp({"-i", "-s", (tmp / "src").string(), "-d", dest.string()}).status, 0);
  EXPECT_EQ(read_file(tmp / "victim"), "precious\n");
  EXPECT_TRUE(fs::is_symlink(dest / "0/.cfg.ini.tmp"));
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 2u);
}

TEST(Hardening, ASymlinkedCurrentSeriesIsRefused) {
  TempDir tmp;
  write_file(tmp / "src/f", "f\n");
  const fs::path dest = tmp / "dest", outside = tmp / "outside";
  fs::create_directories(dest);
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, dest / "0");
  for (const char* mode : {"", "-i"}) {
    std::vector<std::string> args = {"-s", (tmp / "src").string(), "-d", dest.string()};
    if (*mode) args.push_back(mode);
    const auto r = run_bkp(args);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find((dest / "0").string() + ": is a symlink"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_empty(outside)) << "wrote through the symlink";
  }
}

class HardLinks : public ::testing::TestWithParam<bool> {};  // with and without -c

TEST_P(HardLinks, GroupsComeOutExactlyAsInTheSource) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "f", "unchanged\n");
  write_file(src / "pair1", "a pair\n");
  ASSERT_EQ(::link((src / "pair1").c_str(), (src / "pair2").c_str()), 0);
  std::vector<std::string> args = {"-q", "-s", src.string(), "-d", dest.string()};
  if (GetParam()) args.push_back("-c");
  ASSERT_EQ(run_bkp(args).status, 0);
  // Between runs: a second name for an unchanged file, and a pair split into two files
  // with the same content and times.
  ASSERT_EQ(::link((src / "f").c_str(), (src / "g").c_str()), 0);
  ASSERT_EQ(run({"cp", "-p", (src / "pair2").string(), (tmp / "copy").string()}).status, 0);
  fs::remove(src / "pair2");
  fs::rename(tmp / "copy", src / "pair2");
  args.push_back("-i");
  const auto r = run_bkp(args);
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path snap = bkp::Destination::scan(dest).newest_complete()->path / "src";
  EXPECT_EQ(inode_of(snap / "f"), inode_of(snap / "g")) << "an added hard link came out as a copy";
  EXPECT_NE(inode_of(snap / "pair1"), inode_of(snap / "pair2")) << "a split pair came out linked";
  // Link counts aside (the previous snapshot shares inodes), the groups are the same.
  const auto without_counts = [](std::string m) {
    for (size_t at; (at = m.find(" nlink=")) != std::string::npos;) m.erase(at, m.find_first_of(" \n", at + 1) - at);
    return m;
  };
  EXPECT_EQ(without_counts(manifest(src)), without_counts(manifest(snap))) << "hard-link groups differ from the source";
}

INSTANTIATE_TEST_SUITE_P(Checksum, HardLinks, ::testing::Bool());

TEST(Hardening, AFullRunRemovesThePartialOfTheSeriesItCloses) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "f", "f\n");
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  write_file(src / "g", "g\n");
  const auto crashed = run_bkp({"-q", "-i", "-s", src.string(), "-d", dest.string()},
                               {.env = {{"BKP_RSYNC", fake_rsync()}, {"FAKE_RSYNC_CRASH", "1"}}});
  ASSERT_EQ(crashed.status, 1) << crashed.err;
  ASSERT_EQ(bkp::Destination::scan(dest).current()->partials().size(), 1u);
  const auto r = run_bkp({"-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.series.size(), 2u);
  for (const auto& series : store.series) {
    EXPECT_TRUE(series.partials().empty()) << series.folder;
    EXPECT_TRUE(series.unknowns().empty()) << series.folder;
    EXPECT_EQ(series.snapshots.size(), 1u) << series.folder << ": the partial was carried into it";
  }
  EXPECT_EQ(journal(dest, store.series[0].folder).find("[ACTIVE]"), std::string::npos);
}

TEST(Hardening, APartialLeftInAnOlderSeriesIsRemoved) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "f", "f\n");
  // As an earlier version left it: an older series with an interrupted run inside.
  const std::string old = "2026-11-12_02:00:00", partial = "2026-11-13_02:00:00";
  write_file(dest / old / old / "src/f", "f\n");
  write_file(dest / old / partial / "src/big", std::string(100000, 'p'));
  write_file(dest / old / "cfg.ini", "[" + old + "]\ntimestamp = " + old + "\nstatus = complete\nsources = []\nbackup = /x/0\n\n"
                                     "[ACTIVE]\ntimestamp = " + partial + "\nstatus = partial\nsources = []\nbackup = /x/0\n\n");
  const auto r = run_bkp({"-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists(dest / old / partial));
  EXPECT_TRUE(fs::is_directory(dest / old / old));
  EXPECT_EQ(journal(dest, old).find("[ACTIVE]"), std::string::npos);
  EXPECT_NE(journal(dest, old).find("[" + old + "]"), std::string::npos);
}

TEST(Hardening, ListOfAMissingDestinationSaysItDoesNotExist) {
  TempDir tmp;
  const auto r = run_bkp({"list", "-d", (tmp / "nowhere").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(Hardening, PathsLongerThanRsyncCanHandleAreReportedWithWhatToDo) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "short.txt", "s\n");
  // 45 levels of 100-byte names: about 4,550 bytes, beyond rsync's 4,095.
  int dir = ::open(src.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 45; ++i) {
    ASSERT_EQ(::mkdirat(dir, std::string(100, 'x').c_str(), 0755), 0);
    const int sub = ::openat(dir, std::string(100, 'x').c_str(), O_RDONLY | O_DIRECTORY);
    ::close(dir);
    dir = sub;
  }
  ::close(::openat(dir, "deep.txt", O_CREAT | O_WRONLY, 0644));
  ::close(dir);
  const auto r = run_bkp({"-s", src.string(), "-d", dest.string()});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.err.find("longer than rsync's limit of 4095 bytes"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("DEEP PATHS in bkp(1)"), std::string::npos) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 1u);
}

TEST(Hardening, KillNineAtRandomMomentsNeverCostsACompleteSnapshot) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  for (int i = 0; i < 1500; ++i) write_file(src / ("d" + std::to_string(i % 15)) / ("f" + std::to_string(i)), std::string(3000, 'a' + i % 26));
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", dest.string()}).status, 0);
  std::mt19937 random(12345);  // fixed seed: the same moments on every run of the test
  std::map<std::string, std::string> complete;
  for (int round = 0; round < 8; ++round) {
    const auto found = bkp::Destination::scan(dest);
    for (const auto* snap : found.complete_snapshots())
      if (!complete.count(snap->name)) complete[snap->name] = manifest(snap->path, false);
    write_file(src / ("d" + std::to_string(round)) / "f0", "changed in round " + std::to_string(round) + "\n");
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string b = bkp_binary();
      ::execl(b.c_str(), b.c_str(), "-q", round % 3 == 2 ? "-ci" : "-i", "-s", src.c_str(), "-d", dest.c_str(), nullptr);
      ::_exit(127);
    }
    // Not a synchronisation: the moment of the kill is what is being varied. It cannot race:
    // whether a run has not begun, is halfway or is done, the checks below must hold.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 400000));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ASSERT_TRUE(wait_until_no_process_mentions(dest.string()));
    const auto store = bkp::Destination::scan(dest);
    for (const auto& series : store.series) EXPECT_TRUE(series.faults().empty()) << series.faults().front();
    for (const auto& [name, content] : complete) {
      const auto* snap = store.find_snapshot(name);
      ASSERT_TRUE(snap != nullptr && snap->complete) << name << " is no longer complete after round " << round;
      EXPECT_EQ(manifest(snap->path, false), content) << name;
    }
    for (const auto* snap : store.complete_snapshots())  // a run the kill missed is whole
      if (!complete.count(snap->name)) EXPECT_EQ(manifest(snap->path / "src", false), manifest(src, false));
  }
  const auto r = run_bkp({"-i", "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(manifest(bkp::Destination::scan(dest).newest_complete()->path / "src", false), manifest(src, false));
  EXPECT_TRUE(bkp::Destination::scan(dest).current()->partials().empty());
}
