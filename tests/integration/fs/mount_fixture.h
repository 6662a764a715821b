// Shared helpers for the bkpfs integration tests: destinations written by hand in the
// on-disk format of ../shared/contract.md (the original bkp.py's), running code as another
// user, and Mount, which starts the real bkpfs on a real FUSE mount and always
// unmounts it again, also when a test fails.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_support.h"

namespace bkpfstest {

namespace fs = std::filesystem;

// Temporary folders, running programs, files and manifests: ../../common/test_support.h.
using bkptest::digest;
using bkptest::manifest;
using bkptest::read_file;
using bkptest::run;
using bkptest::RunOptions;
using bkptest::RunResult;
using bkptest::TempDir;
using bkptest::write_big_file;
using bkptest::write_file;

std::string bkpfs_binary();  // $BKPFS, set by meson
std::string bkp_binary();    // $BKP, or empty when bkp is not built

// Runs `body` in a child process as uid/gid (e.g. nobody); returns its exit status.
int run_as(uid_t uid, gid_t gid, const std::function<int()>& body);

// --- destinations written by hand -------------------------------------------------

// One journal section in the original bkp.py's format.
std::string section(const std::string& name, const std::string& status = "complete",
                    const std::string& backup = "/old/place/0");
// Replaces DEST/<series>/cfg.ini atomically (temp file + rename, as bkp does).
void write_journal(const fs::path& series_dir, const std::string& text);
// Creates DEST/<series>/<name>/src with a file, and (complete) its journal section.
fs::path add_snapshot(const fs::path& dest, const std::string& series, const std::string& name,
                      bool complete = true);
// A timestamp name `n` seconds after 2026-11-01_00:00:00 (local time).
std::string snapshot_name(int n);

// Entry names of a directory in readdir order, without "." and "..".
std::vector<std::string> list_dir(const fs::path& dir);

bool is_mounted(const fs::path& mountpoint);
int count_fds(pid_t pid);
long rss_kib(pid_t pid);
using bkptest::eventually;  // test_support.h: waits for an observable condition

// How often anyone dropped this machine's page cache or dentries and inodes (/proc/vmstat).
std::uint64_t cache_drops();
// The result of `attempt()` from a run during which nobody (another test or benchmark on
// the machine) dropped the caches, which would empty what a test of caching looks at;
// nullopt when that happened at each of three attempts.
template <typename F>
auto without_cache_drops(F attempt) -> std::optional<decltype(attempt())> {
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t before = cache_drops();
    auto result = attempt();
    if (cache_drops() == before) return result;
  }
  return std::nullopt;
}

// The real bkpfs, mounted in the foreground as a child process. The constructor returns
// once bkpfs reports READY=1 on a NOTIFY_SOCKET (no polling of the mount table) and fails
// the test if it exits instead. The destructor unmounts lazily with fusermount3 -u -z and
// reaps the child, killing it if it does not exit.
class Mount {
 public:
  Mount(const fs::path& dest, const fs::path& mountpoint, const std::vector<std::string>& extra = {});
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  const fs::path& path() const { return mountpoint_; }
  fs::path operator/(const std::string& rel) const { return mountpoint_ / rel; }
  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }
  std::string stderr_text() const;
  // bkpfs's count of finished checks of DEST (the user.bkpfs.checks attribute of the root).
  std::uint64_t checks() const;
  // Returns once bkpfs has checked DEST after the call (two more finished checks), so a
  // change made before it is reflected in the mount; false if that takes over 10 s.
  bool wait_for_check() const;
  // Waits for the child to exit (after a signal or unmount); its exit status or -1.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  fs::path mountpoint_;
  fs::path log_;
  pid_t pid_ = -1;
  bool ready_ = false;
  int exit_status_ = -1;
};

}  // namespace bkpfstest
