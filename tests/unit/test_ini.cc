#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ini.h"
#include "journal.h"
#include "unique_fd.h"

using namespace bkp;

// What Python's configparser wrote for the original bkp.py.
static const char* kOriginal =
    "[2026-11-19_02:00:00]\n"
    "timestamp = 2026-11-19_02:00:00\n"
    "status = complete\n"
    "sources = [\"/home/ann/docs\", \"/etc\"]\n"
    "backup = /mnt/backup/0\n"
    "cwd = /home/ann\n"
    "\n"
    "[ACTIVE]\n"
    "timestamp = 2026-11-20_02:00:00\n"
    "status = partial\n"
    "sources = [\"/home/ann/docs\", \"/etc\"]\n"
    "backup = /mnt/backup/0\n"
    "\n";

TEST(Ini, ParsesOriginalJournal) {
  const auto doc = IniDocument::parse(kOriginal);
  ASSERT_EQ(doc.sections().size(), 2u);
  EXPECT_EQ(doc.find("2026-11-19_02:00:00")->get("status"), "complete");
  EXPECT_EQ(doc.find("ACTIVE")->get("timestamp"), "2026-11-20_02:00:00");
  EXPECT_EQ(doc.find("2026-11-19_02:00:00")->get("cwd"), "/home/ann");
}

TEST(Ini, RoundTripIsExact) {
  EXPECT_EQ(IniDocument::parse(kOriginal).serialize(), kOriginal);
}

TEST(Ini, KeepsUnknownKeysAndSections) {
  auto doc = IniDocument::parse("[weird]\nfoo: bar\n# comment\n[2026-11-19_02:00:00]\nstatus = partial\nzzz = 1\n");
  doc.section("2026-11-19_02:00:00").set("status", "complete");
  const auto again = IniDocument::parse(doc.serialize());
  EXPECT_EQ(again.find("weird")->get("foo"), "bar");
  EXPECT_EQ(again.find("2026-11-19_02:00:00")->get("zzz"), "1");
  EXPECT_EQ(again.find("2026-11-19_02:00:00")->get("status"), "complete");
  EXPECT_EQ(again.sections().front().name(), "weird");
}

TEST(Ini, ContinuationLines) {
  const auto doc = IniDocument::parse("[s]\nk = one\n  two\n");
  EXPECT_EQ(doc.find("s")->get("k"), "one\ntwo");
  EXPECT_EQ(IniDocument::parse(doc.serialize()).find("s")->get("k"), "one\ntwo");
}

namespace {
struct TempFolder {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("bkp-ini-" + std::to_string(getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempFolder() {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempFolder() { std::filesystem::remove_all(path); }
  UniqueFd open() const { return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY)); }
};
}  // namespace

TEST(Ini, RemoveAndSaveAtomically) {
  TempFolder dir;
  auto doc = IniDocument::parse(kOriginal);
  doc.remove("ACTIVE");
  doc.save(dir.open().get(), "cfg.ini");
  const auto loaded = IniDocument::parse(*IniDocument::read_text(dir.open().get(), "cfg.ini"));
  EXPECT_EQ(loaded.find("ACTIVE"), nullptr);
  EXPECT_EQ(loaded.sections().size(), 1u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path), {}), 1) << "a temporary file was left";
  EXPECT_FALSE(IniDocument::read_text(dir.open().get(), "missing.ini").has_value());
}

// Sections are found by name through an index: it follows removals and additions, and a
// repeated header still merges into the first section of that name.
TEST(Ini, SectionsAreFoundByNameAfterRemovalsAndAdditions) {
  auto doc = IniDocument::parse("[a]\nk = 1\n[b]\nk = 2\n[c]\nk = 3\n[b]\nj = 4\n");
  ASSERT_EQ(doc.sections().size(), 3u);
  EXPECT_EQ(doc.find("b")->get("j"), "4");
  doc.remove("a");
  ASSERT_NE(doc.find("c"), nullptr);
  EXPECT_EQ(doc.find("c")->get("k"), "3");
  EXPECT_EQ(doc.find("a"), nullptr);
  doc.section("d").set("k", "5");
  doc.section("b").set("k", "6");
  EXPECT_EQ(doc.sections().size(), 3u);
  EXPECT_EQ(doc.find("b")->get("k"), "6");
  EXPECT_EQ(doc.find("d")->get("k"), "5");
  EXPECT_EQ(doc.serialize(), "[b]\nk = 6\nj = 4\n\n[c]\nk = 3\n\n[d]\nk = 5\n\n");
}

TEST(Ini, SavingNeverWritesThroughASymlinkPlantedAsTheTemporaryFile) {
  TempFolder dir;
  const auto victim = dir.path / "victim";
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_symlink(victim, dir.path / ".cfg.ini.tmp");
  for (int pid_guess = 0; pid_guess < 3; ++pid_guess)  // whatever name the writer picks
    std::filesystem::create_symlink(victim, dir.path / (".cfg.ini." + std::to_string(getpid()) + "." + std::to_string(pid_guess) + ".tmp"));
  IniDocument::parse(kOriginal).save(dir.open().get(), "cfg.ini");
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "precious\n");
  EXPECT_TRUE(std::filesystem::is_symlink(dir.path / ".cfg.ini.tmp"));
  EXPECT_EQ(IniDocument::read_text(dir.open().get(), "cfg.ini"), IniDocument::parse(kOriginal).serialize());
}

TEST(Ini, ReadingRefusesASymlinkedJournal) {
  TempFolder dir;
  std::ofstream(dir.path / "elsewhere") << kOriginal;
  std::filesystem::create_symlink(dir.path / "elsewhere", dir.path / "cfg.ini");
  EXPECT_THROW(IniDocument::read_text(dir.open().get(), "cfg.ini"), std::system_error);
}

TEST(Ini, LenientWhereConfigparserIsAndABomAndCrlfToo) {
  std::vector<IniProblem> problems;
  const auto doc = IniDocument::parse("\xEF\xBB\xBF[s]\r\nStatus: Complete\r\nKEY = v\r\n", &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(doc.find("s")->get("status"), "Complete");
  EXPECT_EQ(doc.find("s")->get("key"), "v");
}

TEST(Ini, ReportsWhatConfigparserWouldRefuseWithTheLine) {
  for (const char* text : {"garbage\n", "[s]\nno delimiter here\n", "[2026-11-20_02:00\nstatus = complete\n",
                           "[s]\n= value without key\n"}) {
    std::vector<IniProblem> problems;
    IniDocument::parse(text, &problems);
    ASSERT_GE(problems.size(), 1u) << text;
    EXPECT_GT(problems[0].line, 0) << text;
  }
}

TEST(Journal, CompleteAndActive) {
  TempFolder dir;
  std::ofstream(dir.path / "cfg.ini") << kOriginal;
  const auto journal = Journal::read(dir.path);
  EXPECT_TRUE(journal.problems().empty());
  EXPECT_TRUE(journal.is_complete("2026-11-19_02:00:00"));
  EXPECT_FALSE(journal.is_complete("2026-11-20_02:00:00"));
  EXPECT_EQ(journal.active_snapshot(), "2026-11-20_02:00:00");
}

TEST(Journal, UnknownStatusesAndEmptyFilesAreProblems) {
  TempFolder dir;
  std::ofstream(dir.path / "cfg.ini") << "[2026-11-19_02:00:00]\nstatus = completed\n";
  EXPECT_EQ(Journal::read(dir.path).problems().size(), 1u);
  EXPECT_FALSE(Journal::read(dir.path).is_complete("2026-11-19_02:00:00"));
  std::ofstream(dir.path / "cfg.ini") << "";
  EXPECT_EQ(Journal::read(dir.path).problems().size(), 1u);
  std::ofstream(dir.path / "cfg.ini") << "[2026-11-19_02:00:00]\nStatus = Complete\n";
  EXPECT_TRUE(Journal::read(dir.path).problems().empty());
  EXPECT_TRUE(Journal::read(dir.path).is_complete("2026-11-19_02:00:00"));
}

TEST(Journal, ARunBeginsFailsOrCompletesInTheOriginalFormat) {
  TempFolder dir;
  {
    Journal j = Journal::open(dir.open(), dir.path);
    j.begin("2026-11-20_02:00:00", {"/src"}, "/dest/0");
    j.save();
  }
  auto text = *IniDocument::read_text(dir.open().get(), "cfg.ini");
  EXPECT_NE(text.find("[ACTIVE]\ntimestamp = 2026-11-20_02:00:00\nstatus = partial\nsources = [\"/src\"]\nbackup = /dest/0\n"),
            std::string::npos) << text;
  {
    Journal j = Journal::open(dir.open(), dir.path);
    j.complete({{"files", "3"}});
    j.set_pinned("2026-11-20_02:00:00", true);
    j.save();
  }
  const Journal done = Journal::read(dir.path);
  EXPECT_FALSE(done.active_snapshot());
  EXPECT_TRUE(done.is_complete("2026-11-20_02:00:00"));
  EXPECT_TRUE(done.is_pinned("2026-11-20_02:00:00"));
  EXPECT_EQ(done.section("2026-11-20_02:00:00")->get("files"), "3");
  EXPECT_EQ(done.section("2026-11-20_02:00:00")->get("sources"), "[\"/src\"]");
  Journal j = Journal::open(dir.open(), dir.path);
  j.forget("2026-11-20_02:00:00");
  j.save();
  EXPECT_EQ(Journal::read(dir.path).sections().size(), 0u);
}
