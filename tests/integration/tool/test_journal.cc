// Destinations written by the original bkp.py, and the journal bkp leaves for it.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.h"
#include "ini.h"
#include "store.h"

using namespace bkptest;

namespace {

// As the original left it: an older series renamed from 0 (its `backup` key still says
// .../0 of a place that no longer exists), a current series with one complete run, a
// failed run and an interrupted one; a key bkp does not know.
void write_original_destination(const fs::path& dest, const fs::path& src) {
  const std::string old_series = "2026-11-12_02:00:00";
  write_file(dest / old_series / "2026-11-12_02:00:00/src/file", "old\n");
  write_file(dest / old_series / "cfg.ini",
             "[2026-11-12_02:00:00]\ntimestamp = 2026-11-12_02:00:00\nstatus = complete\n"
             "sources = [\"" + src.string() + "\"]\nbackup = /media/old-disk/0\ncwd = /root\n\n");
  write_file(dest / "0/2026-11-19_02:00:00/src/file", "complete\n");
  write_file(dest / "0/2026-11-20_02:00:00/src/file", "failed run\n");
  write_file(dest / "0/2026-11-21_02:00:00/src/fi", "interrupted\n");
  write_file(dest / "0/cfg.ini",
             "[2026-11-19_02:00:00]\ntimestamp = 2026-11-19_02:00:00\nstatus = complete\n"
             "sources = [\"" + src.string() + "\"]\nbackup = /media/old-disk/0\ncwd = /root\nhost = nas\n\n"
             "[2026-11-20_02:00:00]\ntimestamp = 2026-11-20_02:00:00\nstatus = failed\n"
             "sources = [\"" + src.string() + "\"]\nbackup = /media/old-disk/0\ncwd = /root\n\n"
             "[ACTIVE]\ntimestamp = 2026-11-21_02:00:00\nstatus = partial\n"
             "sources = [\"" + src.string() + "\"]\nbackup = /media/old-disk/0\n\n");
}

}  // namespace

TEST(Journal, OriginalDestinationIsReadAndContinued) {
  TempDir tmp;
  const fs::path src = tmp / "src", dest = tmp / "dest";
  write_file(src / "file", "complete\n");
  write_original_destination(dest, src);
  // As the original's rsync -a left it: the snapshot's copy has the source's times.
  ASSERT_EQ(run({"touch", "-r", (src / "file").string(), (dest / "0/2026-11-19_02:00:00/src/file").string()}).status, 0);

  auto store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 2u);
  EXPECT_EQ(store.current()->newest_complete()->name, "2026-11-19_02:00:00");

  const auto r = run_bkp({"-i", "-s", src.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  store = bkp::Destination::scan(dest);
  const auto* made = store.newest_complete();
  ASSERT_EQ(made->series, "0");
  EXPECT_EQ(made->journal.at("previous"), "2026-11-19_02:00:00");
  EXPECT_EQ(inode_of(made->path / "src/file"), inode_of(dest / "0/2026-11-19_02:00:00/src/file"));
  const std::string j = journal(dest);
  EXPECT_NE(j.find("host = nas"), std::string::npos) << "unknown key lost";
  EXPECT_NE(j.find("status = failed"), std::string::npos) << "the failed run's record was lost";
  EXPECT_EQ(read_file(dest / "2026-11-12_02:00:00/2026-11-12_02:00:00/src/file"), "old\n");
}

TEST(Journal, CompletedJournalReadsLikeTheOriginals) {
  TempDir tmp;
  write_file(tmp / "src/a", "a");
  ASSERT_EQ(run_bkp({"-s", (tmp / "src").string(), "-d", (tmp / "dest").string()}).status, 0);
  const auto doc = bkp::IniDocument::parse(read_file(tmp / "dest/0/cfg.ini"));
  ASSERT_EQ(doc.sections().size(), 1u);
  const auto& s = doc.sections()[0];
  EXPECT_EQ(s.get("timestamp"), s.name());
  EXPECT_EQ(s.get("status"), "complete");
  EXPECT_EQ(s.get("cwd"), fs::current_path().string());
  EXPECT_TRUE(s.get("finished") && s.get("rsync_exit") && s.get("files") && s.get("bytes"));
}
