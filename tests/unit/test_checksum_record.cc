// Checksum records (format, files beside the journal), hashing, and the backup-time record
// that takes the checksums of linked files from the previous snapshot's record.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "checksum_record.h"
#include "content_hash.h"
#include "snapshot_checksums.h"
#include "unique_fd.h"
#include "verification.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

class Folder : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("bkp-record-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
    fd = UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd);
  }
  void TearDown() override { fs::remove_all(root); }
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel, std::ios::binary) << text;
  }
  fs::path root;
  UniqueFd fd;
};

const std::vector<std::string> kOddNames = {"plain",      "with space", " lead",    "trail ",   "new\nline",
                                            "back\\slash", "cr\rname",   "\xff\xfe", "tab\tx",   "dir/sub/f",
                                            "\\n literal", "ends\\"};

}  // namespace

// The digest of "a" that `xxhsum -H2` prints.
TEST(ContentHash, HexIsWhatXxhsumPrints) {
  EXPECT_EQ(hash_bytes("a").hex(), "a96faf705af16834e6c632b61e964e1f");
  const Checksum sum = hash_bytes("some content");
  EXPECT_EQ(Checksum::from_hex(sum.hex()), sum);
  EXPECT_EQ(Checksum::from_hex(std::string(31, '0')), std::nullopt);
  EXPECT_EQ(Checksum::from_hex(std::string(31, '0') + "g"), std::nullopt);
}

TEST_F(Folder, FileHashEqualsHashOfItsBytesAcrossReadBoundaries) {
  std::string data(3 * (1 << 20) + 12345, '\0');
  std::mt19937 random(7);
  for (char& c : data) c = static_cast<char>(random());
  write("big", data);
  write("empty", "");
  const auto results = hash_files({{fd.get(), "big"}, {fd.get(), "empty"}, {fd.get(), "absent"}}, {.threads = 2});
  ASSERT_TRUE(results[0].sum);
  EXPECT_EQ(*results[0].sum, hash_bytes(data));
  EXPECT_EQ(results[0].bytes, data.size());
  EXPECT_EQ(results[1].sum, hash_bytes(""));
  EXPECT_FALSE(results[2].sum);
  EXPECT_EQ(results[2].error, ENOENT);
}

TEST_F(Folder, HashingNeverFollowsASymlinkOrBlocksOnAFifo) {
  write("target", "x");
  fs::create_symlink(root / "target", root / "link");
  ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0644), 0);
  const auto results = hash_files({{fd.get(), "link"}, {fd.get(), "fifo"}});
  EXPECT_FALSE(results[0].sum);
  EXPECT_FALSE(results[1].sum);
}

TEST(ChecksumRecordFormat, EscapesOddNamesAsXxhsumDoes) {
  const Checksum sum = hash_bytes("x");
  EXPECT_EQ(checksum_line(sum, "a b"), sum.hex() + "  a b\n");
  EXPECT_EQ(checksum_line(sum, "new\nline"), "\\" + sum.hex() + "  new\\nline\n");
  EXPECT_EQ(checksum_line(sum, "back\\slash"), "\\" + sum.hex() + "  back\\\\slash\n");
  EXPECT_EQ(checksum_line(sum, "cr\r"), "\\" + sum.hex() + "  cr\\r\n");
}

TEST(ChecksumRecordFormat, OddNamesRoundTripAndLinesComeSortedByPath) {
  ChecksumRecord record;
  for (const std::string& name : kOddNames) record.add(name, hash_bytes(name));
  const std::string text = record.text();
  std::vector<std::string> problems;
  const ChecksumRecord back = ChecksumRecord::parse(text, &problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(back.size(), kOddNames.size());
  for (const std::string& name : kOddNames) {
    ASSERT_NE(back.find(name), nullptr) << name;
    EXPECT_EQ(back.find(name)->sum, hash_bytes(name)) << name;
  }
  EXPECT_EQ(back.text(), text);
  EXPECT_GT(text.find("  \xff\xfe"), text.find("  plain"));  // byte order, like sort with LC_ALL=C
  EXPECT_LT(text.find("  back"), text.find("  plain"));
}

TEST(ChecksumRecordFormat, LinesThatAreNotChecksumsAreNamedAndSkipped) {
  const Checksum sum = hash_bytes("x");
  std::vector<std::string> problems;
  const ChecksumRecord r = ChecksumRecord::parse(sum.hex() + "  good\nnot a line\n" + sum.hex() + " one-space\n\\" +
                                                     sum.hex() + "  bad\\escape\n\n" + sum.hex() + "  \n",
                                                 &problems);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_NE(r.find("good"), nullptr);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], "line 2: not a checksum line");
}

TEST(ChecksumRecordFormat, ManyEntriesStayFindableAsTheRecordGrows) {
  ChecksumRecord r;
  for (int i = 0; i < 5000; ++i) r.add("f" + std::to_string(i), hash_bytes(std::to_string(i)));
  r.add("f7", hash_bytes("again"));
  EXPECT_EQ(r.size(), 5000u);
  for (int i = 0; i < 5000; i += 97) EXPECT_EQ(r.find("f" + std::to_string(i))->sum, hash_bytes(std::to_string(i)));
  EXPECT_EQ(r.find("f7")->sum, hash_bytes("again"));
  EXPECT_EQ(r.find("nope"), nullptr);
}

TEST_F(Folder, RecordIsWrittenBesideTheJournalReadBackAndForgotten) {
  ChecksumRecord record;
  record.add("src/a", hash_bytes("a"));
  const std::string snap = "2026-11-20_02:00:00";
  EXPECT_FALSE(has_checksum_record(fd.get(), snap));
  EXPECT_EQ(read_checksum_record(fd.get(), snap), std::nullopt);
  write_checksum_record(fd.get(), snap, record);
  EXPECT_TRUE(fs::is_regular_file(root / ".bkp-checksums" / (snap + ".xxh128")));
  EXPECT_EQ(std::distance(fs::directory_iterator(root / ".bkp-checksums"), fs::directory_iterator()), 1);  // no temp left
  const auto back = read_checksum_record(fd.get(), snap);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->text(), record.text());
  record.add("src/b", hash_bytes("b"));
  write_checksum_record(fd.get(), snap, record);  // replaced
  EXPECT_EQ(read_checksum_record(fd.get(), snap)->size(), 2u);
  EXPECT_TRUE(forget_checksum_record(fd.get(), snap));
  EXPECT_FALSE(has_checksum_record(fd.get(), snap));
  EXPECT_FALSE(forget_checksum_record(fd.get(), snap));
  EXPECT_FALSE(forget_checksum_record(fd.get(), "2026-01-01_00:00:00"));
}

TEST_F(Folder, OrphanRecordsAndLeftTemporariesGoOthersStay) {
  ChecksumRecord record;
  record.add("a", hash_bytes("a"));
  fs::create_directories(root / "2026-11-20_02:00:00");
  write_checksum_record(fd.get(), "2026-11-20_02:00:00", record);  // its snapshot is there
  write_checksum_record(fd.get(), "2026-11-21_02:00:00", record);  // gone
  write(".bkp-checksums/.2026-11-22_02:00:00.xxh128.123.4.tmp", "torn");
  write(".bkp-checksums/notes.txt", "not ours");
  EXPECT_EQ(forget_orphan_checksum_records(fd.get()), 2u);
  EXPECT_TRUE(has_checksum_record(fd.get(), "2026-11-20_02:00:00"));
  EXPECT_FALSE(has_checksum_record(fd.get(), "2026-11-21_02:00:00"));
  EXPECT_TRUE(fs::exists(root / ".bkp-checksums/notes.txt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(root / ".bkp-checksums"), fs::directory_iterator()), 2);
}

TEST_F(Folder, PlantedSymlinksAreNeitherFollowedNorWrittenThrough) {
  const fs::path outside = root.string() + "-outside";
  fs::create_directories(outside);
  fs::create_symlink(outside, root / ".bkp-checksums");
  ChecksumRecord record;
  record.add("a", hash_bytes("a"));
  EXPECT_THROW(write_checksum_record(fd.get(), "2026-11-20_02:00:00", record), std::system_error);
  EXPECT_THROW(read_checksum_record(fd.get(), "2026-11-20_02:00:00"), std::system_error);
  EXPECT_TRUE(fs::is_empty(outside));
  fs::remove(root / ".bkp-checksums");
  fs::create_directories(root / ".bkp-checksums");
  std::ofstream(outside / "x") << "x";
  fs::create_symlink(outside / "x", root / ".bkp-checksums" / "2026-11-20_02:00:00.xxh128");
  EXPECT_THROW(read_checksum_record(fd.get(), "2026-11-20_02:00:00"), std::system_error);
  fs::remove_all(outside);
}

TEST_F(Folder, IncrementTakesTheChecksumsOfLinkedFilesFromThePreviousRecord) {
  write("prev/src/same", "unchanged");
  write("prev/src/changed", "old");
  write("new/src/changed", "new content");
  write("new/src/added", "added");
  fs::create_hard_link(root / "prev/src/same", root / "new/src/same");
  fs::create_hard_link(root / "new/src/added", root / "new/src/added-too");  // one inode, two names
  // The previous record says something no file holds: taking it proves nothing was read.
  ChecksumRecord previous;
  const Checksum planted = hash_bytes("what the previous run read");
  previous.add("src/same", planted);
  previous.add("src/changed", hash_bytes("old"));
  UniqueFd prev(::open((root / "prev").c_str(), O_RDONLY | O_DIRECTORY));
  UniqueFd next(::open((root / "new").c_str(), O_RDONLY | O_DIRECTORY));
  RecordStats stats;
  const ChecksumRecord record = checksum_snapshot(next.get(), prev.get(), [&] { return std::optional(previous); }, {}, stats);
  EXPECT_EQ(record.size(), 4u);
  EXPECT_EQ(record.find("src/same")->sum, planted);
  EXPECT_EQ(record.find("src/changed")->sum, hash_bytes("new content"));
  EXPECT_EQ(record.find("src/added")->sum, hash_bytes("added"));
  EXPECT_EQ(record.find("src/added-too")->sum, hash_bytes("added"));
  EXPECT_EQ(stats.files, 4u);
  EXPECT_EQ(stats.hashed, 2u);  // changed, and the added inode once
  EXPECT_EQ(stats.hashed_bytes, std::string("new content").size() + 5);
}

TEST_F(Folder, AFileThePreviousRecordLacksOrThatIsACopyIsRead) {
  write("prev/src/a", "a");
  write("prev/src/b", "b");
  write("new/src/b", "b");  // same content, another inode (e.g. a full run)
  fs::create_hard_link(root / "prev/src/a", root / "new/src/a");
  ChecksumRecord previous;  // has no line for a
  previous.add("src/b", hash_bytes("b"));
  UniqueFd prev(::open((root / "prev").c_str(), O_RDONLY | O_DIRECTORY));
  UniqueFd next(::open((root / "new").c_str(), O_RDONLY | O_DIRECTORY));
  RecordStats stats;
  const ChecksumRecord record = checksum_snapshot(next.get(), prev.get(), [&] { return std::optional(previous); }, {}, stats);
  EXPECT_EQ(record.find("src/a")->sum, hash_bytes("a"));
  EXPECT_EQ(stats.hashed, 2u);
  RecordStats full;
  EXPECT_EQ(checksum_snapshot(next.get(), -1, nullptr, {}, full).text(), record.text());
  EXPECT_EQ(full.hashed, 2u);
}

TEST(VerifySubset, ParsesKOfNAndPercentAndRefusesTheRest) {
  EXPECT_TRUE(Subset::parse("1/1").all());
  EXPECT_TRUE(Subset::parse("100%").all());
  const Subset s = Subset::parse("3/7");
  EXPECT_EQ(s.k, 3u);
  EXPECT_EQ(s.n, 7u);
  EXPECT_EQ(s.describe(), "3/7");
  EXPECT_EQ(Subset::parse("2.5%").describe(), "2.5%");
  for (const char* bad : {"0/3", "4/3", "3/0", "/3", "3/", "x", "1/2/3", "0%", "101%", "-5%", "5", "%", "a%", "-1/3"})
    EXPECT_THROW(Subset::parse(bad), std::exception) << bad;
}

TEST(VerifySubset, NRunsWithKFrom1ToNSelectEveryInodeExactlyOnce) {
  std::mt19937_64 random(1);
  const unsigned n = 7;
  std::vector<int> times(20000, 0);
  std::vector<int> per_k(n, 0);
  for (unsigned k = 1; k <= n; ++k) {
    const Subset s = Subset::parse(std::to_string(k) + "/" + std::to_string(n));
    for (ino_t ino = 0; ino < times.size(); ++ino)
      if (s.selects(ino, random)) ++times[ino], ++per_k[k - 1];
  }
  for (int t : times) ASSERT_EQ(t, 1);
  for (int c : per_k) EXPECT_GT(c, 20000 / 7 / 2);  // spread, even over consecutive numbers
}

TEST(VerifySubset, PercentDrawsAboutThatShare) {
  std::mt19937_64 random(2);
  const Subset s = Subset::parse("10%");
  int chosen = 0;
  for (ino_t ino = 0; ino < 10000; ++ino) chosen += s.selects(ino, random);
  EXPECT_GT(chosen, 700);
  EXPECT_LT(chosen, 1300);
}

// Lookups and adds may alternate, in any order of paths; the record stays sorted and the
// last checksum added for a path is the one it holds.
TEST(ChecksumRecordFormat, AddsAfterLookupsKeepItSortedAndTheLastChecksumWins) {
  ChecksumRecord r;
  r.add("b", hash_bytes("1"));
  r.add("d", hash_bytes("2"));
  EXPECT_EQ(r.find("d")->sum, hash_bytes("2"));
  r.add("a", hash_bytes("3"));
  r.add("d", hash_bytes("4"));
  r.add("c", hash_bytes("5"));
  EXPECT_EQ(r.index_of("a"), 0);
  EXPECT_EQ(r.index_of("c"), 2);
  EXPECT_EQ(r.find("d")->sum, hash_bytes("4"));
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.index_of("e"), -1);
  EXPECT_EQ(r.text().substr(34, 2), "a\n");
}
