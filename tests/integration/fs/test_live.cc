// Live timeline: snapshots completed or removed while mounted show up or disappear within
// a second or two; partial ones never show; removal under an open file or listing is clean.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

bool listed(const fs::path& dir, const std::string& name) {
  for (const std::string& n : list_dir(dir))
    if (n == name) return true;
  return false;
}

TEST(Live, CompletedSnapshotAppearsWithoutRemount) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string first = snapshot_name(0), second = snapshot_name(60);
  add_snapshot(dest, "0", first);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_FALSE(fs::exists(m / "by-date" / second));  // a negative lookup, not to be cached

  // As bkp does it: the folder while running under [ACTIVE], then the journal section.
  add_snapshot(dest, "0", second, false);
  write_journal(dest / "0", read_file(dest / "0/cfg.ini") + "[ACTIVE]\ntimestamp = " + second +
                                "\nstatus = partial\nsources = [\"/src\"]\nbackup = /x/0\n");
  ASSERT_TRUE(m.wait_for_check());
  EXPECT_FALSE(listed(m / "by-date", second)) << "partial snapshot shown";
  EXPECT_FALSE(fs::exists(m / "by-date" / second));

  write_journal(dest / "0", read_file(dest / "0/cfg.ini").substr(0, read_file(dest / "0/cfg.ini").find("[ACTIVE]")) +
                                section(second));
  EXPECT_TRUE(eventually([&] { return listed(m / "by-date", second); }, 5000ms));
  EXPECT_TRUE(eventually([&] { return fs::read_symlink(m / "latest") == "by-date/" + second; }, 2000ms));
  EXPECT_EQ(read_file(m / "latest/src/file.txt"), "snapshot " + second + "\n");
  EXPECT_EQ(list_dir(m / "by-series" / first), (std::vector<std::string>{first, second}));
}

TEST(Live, NewSeriesAppearsAndRenamedSeriesStaysReadable) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string a = snapshot_name(0), b = snapshot_name(60);
  add_snapshot(dest, "0", a);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(read_file(m / "by-date" / a / "src/file.txt"), "snapshot " + a + "\n");
  // A full run: 0/ is renamed to its newest snapshot, a new 0/ starts.
  fs::rename(dest / "0", dest / a);
  add_snapshot(dest, "0", b);
  EXPECT_TRUE(eventually([&] { return list_dir(m / "by-series") == std::vector<std::string>{a, b, "current"}; }, 2500ms));
  EXPECT_EQ(fs::read_symlink(m / "by-series/current"), fs::path(b));
  EXPECT_EQ(read_file(m / "by-series" / a / a / "src/file.txt"), "snapshot " + a + "\n");
  EXPECT_TRUE(fs::exists(m / "by-date" / a / "src"));
}

TEST(Live, RemovedSnapshotDisappears) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string keep = snapshot_name(0), gone = snapshot_name(60);
  add_snapshot(dest, "0", keep);
  add_snapshot(dest, "0", gone);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  ASSERT_EQ(read_file(m / "by-date" / gone / "src/file.txt"), "snapshot " + gone + "\n");

  // As a prune does it: journal section first, then the folder.
  write_journal(dest / "0", section(keep));
  fs::remove_all(dest / "0" / gone);
  EXPECT_TRUE(eventually([&] { return !listed(m / "by-date", gone) && !fs::exists(m / "by-date" / gone); }, 2500ms));
  EXPECT_EQ(fs::read_symlink(m / "latest"), fs::path("by-date/" + keep));
  EXPECT_EQ(list_dir(m / "by-series" / keep), std::vector<std::string>{keep});
}

TEST(Live, RemovalUnderOpenFileAndListingIsClean) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string keep = snapshot_name(0), gone = snapshot_name(60);
  add_snapshot(dest, "0", keep);
  const fs::path snap = add_snapshot(dest, "0", gone);
  for (int i = 0; i < 300; ++i) write_file(snap / "src" / ("f" + std::to_string(i)), std::string(100, 'x'));
  write_big_file(snap / "src/big", 8 << 20);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());

  const fs::path shown = m / "by-date" / gone / "src";
  int fd = ::open((shown / "big").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::vector<char> buf(1 << 20);
  ASSERT_EQ(::read(fd, buf.data(), buf.size()), static_cast<ssize_t>(buf.size()));
  DIR* dir = ::opendir(shown.c_str());
  ASSERT_NE(dir, nullptr);
  int seen = 0;
  for (int i = 0; i < 10 && ::readdir(dir); ++i) ++seen;

  write_journal(dest / "0", section(keep));
  fs::remove_all(dest / "0" / gone);

  // The open file either finishes reading or fails cleanly; the listing completes.
  ssize_t n = 0;
  std::size_t total = buf.size();
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) total += static_cast<std::size_t>(n);
  const int read_errno = n < 0 ? errno : 0;
  if (n == 0)
    EXPECT_EQ(total, 8u << 20) << "end of file before the end";
  else  // a clean failure: the file is gone, not a crash or a hang
    EXPECT_TRUE(read_errno == ENOENT || read_errno == ESTALE || read_errno == EIO) << std::strerror(read_errno);
  ::close(fd);
  errno = 0;
  while (::readdir(dir)) ++seen;
  EXPECT_EQ(errno, 0);
  EXPECT_EQ(seen, 304);  // ".", "..", file.txt, big and f0..f299
  ::closedir(dir);

  // bkpfs is alive and serving, and the snapshot is gone.
  EXPECT_EQ(::kill(m.pid(), 0), 0);
  EXPECT_TRUE(eventually([&] { return !listed(m / "by-date", gone); }, 2500ms));
  EXPECT_EQ(read_file(m / "latest/src/file.txt"), "snapshot " + keep + "\n");
}

// Issue 8, item 8: between the rename of 0/ and the first complete snapshot of the new
// series, by-series/current keeps pointing at the series that was current.
TEST(Live, CurrentStaysDuringAFullRun) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string a = snapshot_name(0), b = snapshot_name(60);
  add_snapshot(dest, "0", a);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  ASSERT_EQ(fs::read_symlink(m / "by-series/current"), fs::path(a));
  // A full run starts: 0/ renamed, the new 0/ has only the running snapshot.
  fs::rename(dest / "0", dest / a);
  add_snapshot(dest, "0", b, false);
  write_journal(dest / "0", "[ACTIVE]\ntimestamp = " + b + "\nstatus = partial\nsources = [\"/src\"]\nbackup = /x/0\n");
  ASSERT_TRUE(m.wait_for_check());
  EXPECT_EQ(fs::read_symlink(m / "by-series/current"), fs::path(a));
  EXPECT_EQ(read_file(m / "by-series/current" / a / "src/file.txt"), "snapshot " + a + "\n");
  // It completes: current moves to the new series.
  write_journal(dest / "0", section(b));
  EXPECT_TRUE(eventually([&] { return fs::read_symlink(m / "by-series/current") == fs::path(b); }, 5000ms));
}

}  // namespace
}  // namespace bkpfstest
