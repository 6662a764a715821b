#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ini.h"
#include "journal.h"

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

TEST(Ini, RemoveAndSaveAtomically) {
  const auto dir = std::filesystem::temp_directory_path() / ("bkp-ini-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto doc = IniDocument::parse(kOriginal);
  doc.remove("ACTIVE");
  doc.save(dir / "cfg.ini");
  const auto loaded = IniDocument::load(dir / "cfg.ini");
  EXPECT_EQ(loaded.find("ACTIVE"), nullptr);
  EXPECT_EQ(loaded.sections().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir / ".cfg.ini.tmp"));
  EXPECT_TRUE(IniDocument::load(dir / "missing.ini").sections().empty());
  std::filesystem::remove_all(dir);
}

TEST(Journal, CompleteAndActive) {
  const auto dir = std::filesystem::temp_directory_path() / ("bkp-journal-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cfg.ini") << kOriginal;
  const auto journal = Journal::load(dir);
  EXPECT_TRUE(journal.is_complete("2026-11-19_02:00:00"));
  EXPECT_FALSE(journal.is_complete("2026-11-20_02:00:00"));
  EXPECT_EQ(journal.active_snapshot(), "2026-11-20_02:00:00");
  std::filesystem::remove_all(dir);
}
