// Checksum records written by every run, and bkp verify (issue 12), with the real rsync.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>

#include "harness.h"
#include "store.h"

using namespace bkptest;
using nlohmann::json;

namespace {

constexpr uid_t kNobody = 65534;

class Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "keep.txt", "kept in every snapshot\n");
    write_file(src / "docs/report.txt", "version 1\n");
    write_file(src / "docs/name with spaces.txt", "spaces\n");
    write_file(src / "empty", "");
    for (int i = 0; i < 30; ++i) write_file(src / "many" / ("f" + std::to_string(i)), "file " + std::to_string(i) + "\n");
    fs::create_symlink("keep.txt", src / "link");
  }
  RunResult backup(bool incremental) {
    std::vector<std::string> args = {"-s", src.string(), "-d", dest.string()};
    if (incremental) args.push_back("-i");
    return run_bkp(args);
  }
  RunResult verify(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), {"verify", "-d", dest.string()});
    return run_bkp(args, options);
  }
  json verify_json(std::vector<std::string> args = {}) {
    args.push_back("--json");
    const RunResult r = verify(args);
    EXPECT_TRUE(r.status == 0 || r.status == 1) << r.err;
    return json::parse(r.out);
  }
  std::vector<const bkp::Snapshot*> snapshots() {
    store = bkp::Destination::scan(dest);
    return store.complete_snapshots();
  }
  fs::path record_of(const bkp::Snapshot& s) { return dest / s.series / ".bkp-checksums" / (s.name + ".xxh128"); }
  // xxhsum alone, as the man page says: cd into the snapshot, check its record.
  RunResult xxhsum_check(const bkp::Snapshot& s) {
    return run({"sh", "-c", "cd \"$1\" && xxhsum -c ../.bkp-checksums/\"$2\".xxh128", "sh", s.path.string(), s.name});
  }
  static std::string xxh128_of(const fs::path& file) {
    const RunResult r = run({"xxhsum", "-H2", file.string()});
    return r.out.substr(0, 32);
  }
  // One byte changed in place: same inode, same size, mtime put back.
  static void flip_byte(const fs::path& file) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      char c = 0;
      f.seekg(3);
      f.get(c);
      f.seekp(3);
      f.put(static_cast<char>(c ^ 0x20));
    }
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(::stat(file.c_str(), &after), 0);
    ASSERT_EQ(after.st_size, st.st_size);
    ASSERT_EQ(after.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
    ASSERT_EQ(after.st_ino, st.st_ino);
  }
  static std::set<std::string> snapshot_names(const json& finding) {
    std::set<std::string> out;
    for (const auto& s : finding["snapshots"]) out.insert(s["snapshot"].get<std::string>());
    return out;
  }

  TempDir tmp;
  fs::path src = tmp / "src", dest = tmp / "dest";
  bkp::Destination store;
};

}  // namespace

TEST_F(Verify, EveryRunRecordsEveryRegularFileCheckableWithXxhsumAlone) {
  write_file(src / "odd\\name", "backslash\n");
  ASSERT_EQ(backup(false).status, 0);
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  const std::string record = read_file(record_of(*snaps[0]));
  EXPECT_EQ(count_lines(record), 35);  // regular files only: not the symlink, not directories
  EXPECT_NE(record.find(xxh128_of(src / "keep.txt") + "  src/keep.txt\n"), std::string::npos) << record;
  EXPECT_NE(record.find(xxh128_of(src / "empty") + "  src/empty\n"), std::string::npos);
  EXPECT_NE(record.find("\\" + xxh128_of(src / "odd\\name") + "  src/odd\\\\name\n"), std::string::npos);
  EXPECT_EQ(snaps[0]->journal.at("checksum_record"), ".bkp-checksums/" + snaps[0]->name + ".xxh128");
  EXPECT_EQ(snaps[0]->journal.at("checksum_files"), "35");
  fs::remove(src / "odd\\name");  // needs xxhsum 0.8.2 to be checked; Debian 12 has 0.8.1
  ASSERT_EQ(backup(true).status, 0);
  const RunResult check = xxhsum_check(*snapshots().back());
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("src/keep.txt: OK"), std::string::npos) << check.out;
}

TEST_F(Verify, AnIncrementReadsOnlyItsNewFilesAndTakesTheRestFromThePreviousRecord) {
  ASSERT_EQ(backup(false).status, 0);
  write_file(src / "docs/report.txt", "version 2, longer\n");
  write_file(src / "added.txt", "new\n");
  ASSERT_EQ(backup(true).status, 0);
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[0]->journal.at("checksum_hashed"), "34");
  EXPECT_EQ(snaps[1]->journal.at("checksum_files"), "35");
  // The changed file and the added one: rsync wrote them and reported their checksums.
  EXPECT_EQ(snaps[1]->journal.at("checksum_hashed"), "0");
  EXPECT_EQ(snaps[1]->journal.at("checksum_from_rsync"), "2");
  const std::string record = read_file(record_of(*snaps[1]));
  EXPECT_NE(record.find(xxh128_of(src / "docs/report.txt") + "  src/docs/report.txt\n"), std::string::npos);
  EXPECT_NE(record.find(xxh128_of(src / "added.txt") + "  src/added.txt\n"), std::string::npos);
  EXPECT_EQ(xxhsum_check(*snaps[1]).status, 0);
}

// What rsync reports writing is trusted only where it cannot name another file: a name
// rsync may have escaped is read instead, and hard links share their inode's checksum.
TEST_F(Verify, ChecksumsRsyncReportsAreTheContentOfEachFileItWrote) {
  ASSERT_EQ(backup(false).status, 0);
  write_file(src / "docs/report.txt", "version 2\n");
  write_file(src / "odd\\name", "backslash\n");
  write_file(src / "group/a", "two names\n");
  fs::create_hard_link(src / "group/a", src / "group/b");
  ASSERT_EQ(backup(true).status, 0);
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  EXPECT_EQ(snaps[1]->journal.at("checksum_files"), "37");
  EXPECT_EQ(snaps[1]->journal.at("checksum_hashed"), "1") << "the name with a backslash";
  EXPECT_EQ(snaps[1]->journal.at("checksum_from_rsync"), "2") << "report.txt, and one inode of the group";
  const std::string record = read_file(record_of(*snaps[1]));
  for (const char* name : {"docs/report.txt", "group/a", "group/b"})
    EXPECT_NE(record.find(xxh128_of(src / name) + "  src/" + name + "\n"), std::string::npos) << name << "\n" << record;
  const json report = verify_json({snaps[1]->name});
  EXPECT_EQ(report["status"], "clean") << report.dump();
  EXPECT_EQ(report["files_read"], 36) << report.dump();  // every inode, the group's once
}

// Done means: one byte flipped (size and mtime kept) in a file hard-linked into two
// snapshots, and verify names the file and both snapshots.
TEST_F(Verify, FlippedByteInAFileLinkedIntoTwoSnapshotsNamesTheFileAndBothSnapshots) {
  ASSERT_EQ(backup(false).status, 0);
  write_file(src / "docs/report.txt", "version 2\n");
  ASSERT_EQ(backup(true).status, 0);
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  ASSERT_EQ(inode_of(snaps[0]->path / "src/keep.txt"), inode_of(snaps[1]->path / "src/keep.txt"));
  EXPECT_EQ(verify({}).status, 0);

  flip_byte(snaps[1]->path / "src/keep.txt");
  const std::string before = destination_state(dest);
  const RunResult r = verify({});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("damaged: src/keep.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0/" + snaps[0]->name + "/src/keep.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0/" + snaps[1]->name + "/src/keep.txt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 damaged"), std::string::npos) << r.out;
  EXPECT_EQ(destination_state(dest), before) << "verify changed the destination";

  const json j = verify_json();
  EXPECT_EQ(j["status"], "damaged");
  ASSERT_EQ(j["damaged"].size(), 1u);
  EXPECT_EQ(j["damaged"][0]["path"], "src/keep.txt");
  EXPECT_EQ(snapshot_names(j["damaged"][0]), (std::set<std::string>{snaps[0]->name, snaps[1]->name}));
  EXPECT_EQ(j["damaged"][0]["expected"], xxh128_of(src / "keep.txt"));
  // Each inode once: 34 in the first snapshot, the changed file in the second.
  EXPECT_EQ(j["files"], 35);
  EXPECT_EQ(j["files_read"], 35);
  // One snapshot asked for: only it is named.
  const json one = verify_json({snaps[0]->name});
  ASSERT_EQ(one["damaged"].size(), 1u);
  EXPECT_EQ(snapshot_names(one["damaged"][0]), (std::set<std::string>{snaps[0]->name}));
}

TEST_F(Verify, MissingAndUnreadableFilesAreReportedWithTheirSnapshots) {
  ASSERT_EQ(backup(false).status, 0);
  ASSERT_EQ(backup(true).status, 0);
  const auto snaps = snapshots();
  fs::remove(snaps[1]->path / "src/many/f7");
  fs::permissions(snaps[0]->path / "src/docs/report.txt", fs::perms::none);  // shared with snaps[1]
  // As root every file can be read, so this verify runs as nobody.
  const RunResult r = verify({"--json"}, {.env = {}, .uid = kNobody, .cwd = "/"});
  EXPECT_EQ(r.status, 1) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["missing"].size(), 1u);
  EXPECT_EQ(j["missing"][0]["path"], "src/many/f7");
  EXPECT_EQ(snapshot_names(j["missing"][0]), (std::set<std::string>{snaps[1]->name}));
  ASSERT_EQ(j["unreadable"].size(), 1u);
  EXPECT_EQ(j["unreadable"][0]["path"], "src/docs/report.txt");
  EXPECT_EQ(j["unreadable"][0]["error"], "Permission denied");
  EXPECT_EQ(snapshot_names(j["unreadable"][0]), (std::set<std::string>{snaps[0]->name, snaps[1]->name}));
  EXPECT_TRUE(j["damaged"].empty());
}

TEST_F(Verify, UnknownSnapshotNamesAndBadSubsetsAreRefusedNamingThem) {
  ASSERT_EQ(backup(false).status, 0);
  RunResult r = verify({"2020-01-01_00:00:00", snapshots()[0]->name, "nonsense"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("2020-01-01_00:00:00, nonsense"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1);
  for (const char* bad : {"0/3", "4/3", "150%", "half"}) {
    r = verify({"--subset", bad});
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(r.err.find(std::string("--subset ") + bad), std::string::npos) << r.err;
  }
  EXPECT_EQ(verify({"--bogus"}).status, 2);
  EXPECT_EQ(run_bkp({"verify"}).status, 2);
  r = run_bkp({"verify", "-d", (tmp / "nowhere").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos);
}

TEST_F(Verify, NightlySubsetsKOfNTogetherReadEveryFileOnce) {
  ASSERT_EQ(backup(false).status, 0);
  ASSERT_EQ(backup(true).status, 0);
  flip_byte(snapshots()[0]->path / "src/many/f12");
  int read = 0, found = 0;
  for (int k = 1; k <= 5; ++k) {
    const json j = verify_json({"--subset", std::to_string(k) + "/5"});
    EXPECT_EQ(j["subset"], std::to_string(k) + "/5");
    read += j["files_read"].get<int>();
    found += static_cast<int>(j["damaged"].size());
  }
  EXPECT_EQ(read, 34);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(verify_json({"--subset", "100%"})["files_read"], 34);
}

TEST_F(Verify, SnapshotsWithoutRecordsAreNamedAndRecordWritesThemFromWhatIsOnDisk) {
  // As the original bkp.py (or bkp before records) left it.
  const std::string snap = "2026-11-19_02:00:00";
  write_file(dest / "0" / snap / "src/a.txt", "file a\n");
  write_file(dest / "0" / snap / "src/b.txt", "file b\n");
  write_file(dest / "0/cfg.ini", "[" + snap + "]\ntimestamp = " + snap + "\nstatus = complete\nsources = [\"/src\"]\n"
                                  "backup = /media/old/0\ncwd = /root\n\n");
  RunResult r = verify({});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("no record: 0/" + snap), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bkp verify --record"), std::string::npos);
  EXPECT_EQ(verify_json()["without_record"][0]["snapshot"], snap);

  const std::string journal_before = journal(dest);
  r = verify({"--record"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("recorded: 0/" + snap), std::string::npos) << r.out;
  // Its only change to the journal: what runs record now, that it holds no xattrs.
  std::string with_key = journal_before;
  with_key.insert(with_key.find("cwd = /root\n") + std::string("cwd = /root\n").size(), "xattrs = false\n");
  EXPECT_EQ(journal(dest), with_key);
  const auto snaps = snapshots();
  EXPECT_EQ(count_lines(read_file(record_of(*snaps[0]))), 2);
  EXPECT_EQ(xxhsum_check(*snaps[0]).status, 0);
  EXPECT_TRUE(verify_json()["without_record"].empty());
  flip_byte(dest / "0" / snap / "src/b.txt");
  EXPECT_EQ(verify({}).status, 1);
}

// An older snapshot is recorded as holding no xattrs only when every entry was seen to
// hold none: one user xattr on one file, or an ACL on a directory, and the key stays away.
TEST_F(Verify, RecordMarksOlderSnapshotsWithoutXattrsAndNoOther) {
  const std::string plain = "2026-11-18_02:00:00", labelled = "2026-11-19_02:00:00", with_acl = "2026-11-20_02:00:00";
  std::string ini;
  for (const std::string& snap : {plain, labelled, with_acl}) {
    write_file(dest / "0" / snap / "src/a.txt", "file a\n");
    write_file(dest / "0" / snap / "src/sub/b.txt", "file b " + snap + "\n");
    ini += "[" + snap + "]\ntimestamp = " + snap + "\nstatus = complete\nsources = [\"/src\"]\nbackup = /x/0\ncwd = /\n\n";
  }
  write_file(dest / "0/cfg.ini", ini);
  const fs::path file = dest / "0" / labelled / "src/sub/b.txt";
  if (::setxattr(file.c_str(), "user.note", "x", 1, 0) != 0) GTEST_SKIP() << "no user xattrs here: " << std::strerror(errno);
  const fs::path dir = dest / "0" / with_acl / "src/sub";
  ASSERT_EQ(run({"setfacl", "-m", "u:65534:rx", dir.string()}).status, 0);
  const RunResult r = verify({"--record"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("recorded: 0/" + plain + ": checksums written from what is on disk now; it holds no extended"),
            std::string::npos) << r.out;
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 3u);
  EXPECT_EQ(snaps[0]->journal.at("xattrs"), "false");
  EXPECT_EQ(snaps[1]->journal.count("xattrs"), 0u) << "a user xattr on one file";
  EXPECT_EQ(snaps[2]->journal.count("xattrs"), 0u) << "an ACL on a directory";
  for (const auto* s : snaps) EXPECT_EQ(xxhsum_check(*s).status, 0) << s->name;
}

TEST_F(Verify, RepairAdviceNamesAnUndamagedCopyInAnotherSeries) {
  ASSERT_EQ(backup(false).status, 0);
  ASSERT_EQ(backup(false).status, 0);  // a new series: independent copies of the same files
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  ASSERT_NE(snaps[0]->series, snaps[1]->series);
  flip_byte(snaps[1]->path / "src/docs/report.txt");
  const RunResult r = verify({});
  EXPECT_EQ(r.status, 1);
  const fs::path good = snaps[0]->path / "src/docs/report.txt";
  EXPECT_NE(r.out.find("undamaged copy (same checksum, another inode): " + good.string()), std::string::npos) << r.out;
  const json j = verify_json();
  ASSERT_EQ(j["damaged"].size(), 1u);
  EXPECT_EQ(j["damaged"][0]["undamaged_copy"], good.string());
  EXPECT_EQ(read_file(good), "version 1\n");
}

TEST_F(Verify, RecordsAreNoSnapshotsAndMoveWithTheirSeries) {
  ASSERT_EQ(backup(false).status, 0);
  ASSERT_EQ(backup(true).status, 0);
  EXPECT_EQ(layout(dest).snapshots.size(), 2u);
  const RunResult list = run_bkp({"list", "-d", dest.string(), "--json"});
  ASSERT_EQ(list.status, 0);
  EXPECT_EQ(json::parse(list.out)["snapshots"].size(), 2u);
  EXPECT_EQ(list.out.find("checksums"), std::string::npos);
  ASSERT_EQ(backup(false).status, 0);  // 0/ becomes an older series, records and all
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 3u);
  EXPECT_TRUE(fs::is_regular_file(record_of(*snaps[0])));
  EXPECT_NE(snaps[0]->series, "0");
  const json j = verify_json();
  EXPECT_EQ(j["status"], "clean");
  EXPECT_TRUE(j["without_record"].empty());
  EXPECT_EQ(j["files_read"], 68);
}

TEST_F(Verify, ProgressIsShownOnATerminalOnly) {
  ASSERT_EQ(backup(false).status, 0);
  RunResult r = verify({});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  // script(1) gives the command a terminal.
  r = run({"script", "-qec", bkp_binary() + " verify -d '" + dest.string() + "'", "/dev/null"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("bkp verify: 34/34 files"), std::string::npos) << r.out;
}

// Block sharing rewrites parts of changed files with FIDEDUPERANGE after rsync: the
// record is made after it, and holds the checksum of the content.
TEST_F(Verify, BlockSharingOnXfsRecordsTheSameChecksums) {
  LoopFilesystem xfs(tmp.path(), "xfs", 400, {"-q", "-m", "reflink=1"});
  if (!xfs.skip_reason().empty()) GTEST_SKIP() << xfs.skip_reason();
  dest = xfs.path() / "dest";
  write_big_file(src / "vm.img", 32 << 20, 'v');
  ASSERT_EQ(backup(false).status, 0);
  {
    std::fstream f(src / "vm.img", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 << 20);
    f << std::string(1 << 20, 'x');
  }
  const RunResult r = backup(true);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto snaps = snapshots();
  ASSERT_EQ(snaps.size(), 2u);
  ASSERT_GT(std::stoull(snaps[1]->journal.at("shared_bytes")), 16u << 20) << "no block sharing happened";
  const std::string record = read_file(record_of(*snaps[1]));
  EXPECT_NE(record.find(xxh128_of(src / "vm.img") + "  src/vm.img\n"), std::string::npos) << record;
  EXPECT_EQ(xxh128_of(snaps[1]->path / "src/vm.img"), xxh128_of(src / "vm.img"));
  EXPECT_EQ(xxhsum_check(*snaps[1]).status, 0);
  EXPECT_EQ(verify({}).status, 0);
}

TEST_F(Verify, ARecordTheJournalNamesButThatIsGoneIsAProblem) {
  ASSERT_EQ(backup(false).status, 0);
  const auto snaps = snapshots();
  fs::remove(record_of(*snaps[0]));
  RunResult r = verify({});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("no record: 0/" + snaps[0]->name + ": its record .bkp-checksums/" + snaps[0]->name +
                       ".xxh128 is gone"), std::string::npos) << r.out;
  r = verify({"--record"});  // written anew from what is on disk now
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(fs::is_regular_file(record_of(*snaps[0])));
  EXPECT_EQ(verify({}).status, 0);
}

// Nothing is written through a symlink in DEST: a run that cannot write its record fails,
// naming the folder, and its snapshot stays partial (the next run reuses it).
TEST_F(Verify, APlantedSymlinkInPlaceOfTheRecordFolderFailsTheRunWithoutWritingThroughIt) {
  ASSERT_EQ(backup(false).status, 0);
  const fs::path outside = tmp / "outside";
  fs::create_directories(outside);
  fs::rename(dest / "0/.bkp-checksums", tmp / "records");
  fs::create_symlink(outside, dest / "0/.bkp-checksums");
  const RunResult r = backup(true);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find((dest / "0/.bkp-checksums").string() + ": not a real directory"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is left partial"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(outside));
  store = bkp::Destination::scan(dest);
  EXPECT_EQ(store.complete_snapshots().size(), 1u);
  ASSERT_EQ(store.current()->partials().size(), 1u);
  fs::remove(dest / "0/.bkp-checksums");
  fs::rename(tmp / "records", dest / "0/.bkp-checksums");
  ASSERT_EQ(backup(true).status, 0);
  EXPECT_EQ(snapshots().size(), 2u);
  EXPECT_EQ(verify({}).status, 0);
}

TEST_F(Verify, TheNextRunSweepsRecordsOfSnapshotsThatAreGone) {
  ASSERT_EQ(backup(false).status, 0);
  write_file(dest / "0/.bkp-checksums/2020-01-01_00:00:00.xxh128", read_file(record_of(*snapshots()[0])));
  write_file(dest / "0/.bkp-checksums/.2020-01-02_00:00:00.xxh128.77.1.tmp", "torn");
  ASSERT_EQ(backup(true).status, 0);
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dest / "0/.bkp-checksums")) left.insert(e.path().filename().string());
  std::set<std::string> expected;
  for (const auto* s : snapshots()) expected.insert(s->name + ".xxh128");
  EXPECT_EQ(left, expected);
}
