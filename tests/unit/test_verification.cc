// The core of bkp verify on destinations made by hand: each inode read once, findings that
// name every snapshot holding the inode, subsets, repair advice, records written on request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "checksum_record.h"
#include "snapshot_checksums.h"
#include "store.h"
#include "unique_fd.h"
#include "verification.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

const std::string kOld1 = "2026-11-01_02:00:00", kOld2 = "2026-11-02_02:00:00";
const std::string kNew1 = "2026-11-10_02:00:00", kNew2 = "2026-11-11_02:00:00";

// DEST with an older series (kOld1, kOld2) and the current one (kNew1, kNew2); within a
// series the second snapshot hard-links what did not change, as an increment does.
class Dest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("bkp-verify-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    make_series(kOld1, {kOld1, kOld2});
    make_series("0", {kNew1, kNew2});
  }
  void TearDown() override { fs::remove_all(root); }

  void make_series(const std::string& folder, const std::vector<std::string>& snaps) {
    const fs::path series = root / folder;
    fs::create_directories(series);
    std::ofstream ini(series / "cfg.ini");
    for (const auto& s : snaps) ini << "[" << s << "]\ntimestamp = " << s << "\nstatus = complete\n\n";
    write(series / snaps[0] / "src/keep.txt", "kept in every snapshot");
    write(series / snaps[0] / "src/dir/changes.txt", "version 1");
    for (int i = 0; i < 20; ++i) write(series / snaps[0] / ("src/many/f" + std::to_string(i)), "file " + std::to_string(i));
    fs::create_directories(series / snaps[1] / "src/dir");
    fs::create_directories(series / snaps[1] / "src/many");
    fs::create_hard_link(series / snaps[0] / "src/keep.txt", series / snaps[1] / "src/keep.txt");
    for (int i = 0; i < 20; ++i)
      fs::create_hard_link(series / snaps[0] / ("src/many/f" + std::to_string(i)), series / snaps[1] / ("src/many/f" + std::to_string(i)));
    write(series / snaps[1] / "src/dir/changes.txt", "version 2");
  }
  static void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }
  void record(const std::string& series, const std::string& snap) {
    UniqueFd sfd(::open((root / series).c_str(), O_RDONLY | O_DIRECTORY));
    UniqueFd snap_fd(::openat(sfd.get(), snap.c_str(), O_RDONLY | O_DIRECTORY));
    RecordStats stats;
    write_checksum_record(sfd.get(), snap, checksum_snapshot(snap_fd.get(), -1, nullptr, {}, stats));
  }
  void record_all() {
    record(kOld1, kOld1), record(kOld1, kOld2), record("0", kNew1), record("0", kNew2);
  }
  // Changes one byte in place: same size, same inode; mtime put back.
  void flip_byte(const fs::path& file) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    char c = 0;
    f.seekg(2);
    f.get(c);
    f.seekp(2);
    f.put(static_cast<char>(c ^ 1));
    f.close();
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  }
  VerifyReport verify(const std::vector<std::string>& names = {}, VerifyOptions options = {}) {
    dest = Destination::scan(root);
    std::vector<const Snapshot*> chosen;
    for (const auto& n : names) chosen.push_back(dest.find_snapshot(n));
    if (names.empty()) chosen = dest.complete_snapshots();
    return verify_snapshots(dest, chosen, options);
  }
  static std::set<std::string> holders(const Finding& f) {
    std::set<std::string> out;
    for (const Holder& h : f.holders) out.insert(h.relative().string());
    return out;
  }

  fs::path root;
  Destination dest;
};

}  // namespace

TEST_F(Dest, CleanDestinationReadsEachInodeOnce) {
  record_all();
  const VerifyReport r = verify();
  EXPECT_FALSE(r.damage_found());
  // Per series: keep.txt, 20 files, 2 versions of changes.txt = 23 inodes, in 4 snapshots.
  EXPECT_EQ(r.inodes, 46u);
  EXPECT_EQ(r.files_read, 46u);
  EXPECT_EQ(r.unrecorded, 0u);
  for (const SnapshotCheck& c : r.snapshots) EXPECT_TRUE(c.had_record);
}

TEST_F(Dest, FlippedByteInALinkedFileNamesEverySnapshotThatHoldsIt) {
  record_all();
  flip_byte(root / "0" / kNew1 / "src/keep.txt");
  const VerifyReport r = verify();
  ASSERT_EQ(r.findings.size(), 1u);
  const Finding& f = r.findings[0];
  EXPECT_EQ(f.problem, Problem::damaged);
  EXPECT_EQ(holders(f), (std::set<std::string>{"0/" + kNew1 + "/src/keep.txt", "0/" + kNew2 + "/src/keep.txt"}));
  EXPECT_EQ(f.expected, hash_bytes("kept in every snapshot"));
  ASSERT_TRUE(f.undamaged_copy);  // the older series has its own copy
  EXPECT_EQ(f.undamaged_copy->string(), kOld1 + "/" + kOld2 + "/src/keep.txt");
}

TEST_F(Dest, NoUndamagedCopyIsOfferedWhenEveryCopyIsDamaged) {
  record_all();
  flip_byte(root / "0" / kNew1 / "src/keep.txt");
  flip_byte(root / kOld1 / kOld1 / "src/keep.txt");
  const VerifyReport r = verify();
  ASSERT_EQ(r.findings.size(), 2u);
  for (const Finding& f : r.findings) EXPECT_FALSE(f.undamaged_copy);
}

TEST_F(Dest, MissingFilesAreFoundWithEverySnapshotThatRecordedThem) {
  record_all();
  fs::remove(root / "0" / kNew1 / "src/many/f3");
  fs::remove(root / "0" / kNew2 / "src/many/f3");
  const VerifyReport r = verify({kNew1, kNew2}, {.subset = Subset::parse("1/1000")});  // missing whatever the subset
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].problem, Problem::missing);
  EXPECT_EQ(holders(r.findings[0]), (std::set<std::string>{"0/" + kNew1 + "/src/many/f3", "0/" + kNew2 + "/src/many/f3"}));
  ASSERT_TRUE(r.findings[0].undamaged_copy);
  EXPECT_EQ(r.findings[0].undamaged_copy->string(), kOld1 + "/" + kOld2 + "/src/many/f3");
}

TEST_F(Dest, SubsetsKOfNTogetherReadEverythingOnceAndOneOfThemFindsTheDamage) {
  record_all();
  flip_byte(root / "0" / kNew2 / "src/dir/changes.txt");
  uint64_t read = 0;
  int found = 0;
  for (unsigned k = 1; k <= 4; ++k) {
    const VerifyReport r = verify({}, {.subset = Subset::parse(std::to_string(k) + "/4")});
    read += r.files_read;
    found += static_cast<int>(r.findings.size());
    EXPECT_EQ(r.inodes, 46u);
  }
  EXPECT_EQ(read, 46u);
  EXPECT_EQ(found, 1);
}

TEST_F(Dest, SnapshotsWithoutRecordAreNamedAndRecordWritesThemFromDisk) {
  record("0", kNew2);
  VerifyReport r = verify();
  EXPECT_FALSE(r.damage_found());
  std::set<std::string> without;
  for (const SnapshotCheck& c : r.snapshots)
    if (!c.had_record) {
      without.insert(c.snapshot->name);
      EXPECT_NE(c.problem.find("no checksum record"), std::string::npos);
    }
  EXPECT_EQ(without, (std::set<std::string>{kOld1, kOld2, kNew1}));
  // Only what a record covers is read: kNew2's 22 inodes (21 shared with kNew1).
  EXPECT_EQ(r.files_read, 22u);

  const std::string before = read_checksum_record(::open((root / "0").c_str(), O_RDONLY | O_DIRECTORY), kNew2)->text();
  r = verify({}, {.record = true});
  EXPECT_FALSE(r.damage_found());
  EXPECT_EQ(r.files_read, 46u);
  for (const SnapshotCheck& c : r.snapshots) EXPECT_EQ(c.recorded, c.snapshot->name != kNew2) << c.snapshot->name;
  UniqueFd zero(::open((root / "0").c_str(), O_RDONLY | O_DIRECTORY));
  EXPECT_EQ(read_checksum_record(zero.get(), kNew2)->text(), before);  // an existing record is never rewritten
  EXPECT_EQ(read_checksum_record(zero.get(), kNew1)->size(), 22u);
  EXPECT_EQ(read_checksum_record(zero.get(), kNew1)->find("src/keep.txt")->sum, hash_bytes("kept in every snapshot"));
  // Now the shared inode is checked against kNew1's record as well.
  flip_byte(root / "0" / kNew1 / "src/many/f0");
  r = verify({kNew1});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(holders(r.findings[0]), (std::set<std::string>{"0/" + kNew1 + "/src/many/f0"}));  // only kNew1 was asked for
}

TEST_F(Dest, FilesTheRecordDoesNotListAreCountedNotRead) {
  record_all();
  write(root / "0" / kNew2 / "src/stray", "not recorded");
  const VerifyReport r = verify({kNew2});
  EXPECT_FALSE(r.damage_found());
  EXPECT_EQ(r.unrecorded, 1u);
}

TEST_F(Dest, ADamagedRecordLineIsReportedAndTheRestIsStillChecked) {
  record_all();
  std::ofstream(root / "0" / kChecksumDir / (kNew2 + ".xxh128"), std::ios::app) << "garbage line\n";
  const VerifyReport r = verify({kNew2});
  EXPECT_FALSE(r.damage_found());
  ASSERT_EQ(r.record_problems.size(), 1u);
  EXPECT_NE(r.record_problems[0].find("not a checksum line"), std::string::npos);
  EXPECT_EQ(r.files_read, 22u);
}

TEST_F(Dest, VerifyWritesNothingIntoSnapshots) {
  record_all();
  const auto state = [&] {
    std::string s;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      struct stat st {};
      ::lstat(e.path().c_str(), &st);
      s += e.path().string() + " " + std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_size) + "\n";
    }
    return s;
  };
  const std::string before = state();
  verify();
  EXPECT_EQ(state(), before);
}

// A prune may remove a snapshot while a verify (which takes no lock) reads: that snapshot
// is gone, not damaged.
TEST_F(Dest, ASnapshotRemovedDuringTheRunIsNotReportedAsMissingFiles) {
  record_all();
  dest = Destination::scan(root);
  const auto chosen = dest.complete_snapshots();
  fs::rename(root / "0" / kNew1, root / "0" / (".bkp-removing-" + kNew1));  // as prune removes it
  std::ofstream(root / "0" / "cfg.ini") << "[" << kNew2 << "]\ntimestamp = " << kNew2 << "\nstatus = complete\n\n";
  const VerifyReport r = verify_snapshots(dest, chosen, {});
  EXPECT_FALSE(r.damage_found()) << r.findings.size() << " findings";
  EXPECT_EQ(r.files_read, 45u);  // the other three snapshots: 23 + 22 (one version of changes.txt gone)
}
