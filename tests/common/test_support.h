// Helpers shared by the integration tests of bkp and bkpfs: temporary folders on disk,
// running programs and capturing their output, writing and reading files, and a manifest
// of a tree that tells whether anything in it changed (content, metadata, inode sharing).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bkptest {

namespace fs = std::filesystem;

// A fresh 0755 directory under /var/tmp (on disk, not tmpfs; other users can reach it),
// removed with everything in it at destruction, also folders a test left at mode 000.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct RunResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

struct RunOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  uid_t uid = static_cast<uid_t>(-1);      // run as this user (with its primary group) when set
  fs::path cwd;
};

// Runs argv to the end, stdin from /dev/null, and captures its output.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});
// Starts argv in the background with stdin from /dev/null and stdout/stderr on the given
// descriptors; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const RunOptions& options, int out_fd, int err_fd);
// The exit status of a waitpid() status, or 128+signal.
int exit_status(int wait_status);
// Waits for a child (retrying on EINTR) and returns its exit_status().
int wait_for(pid_t pid);

// Creates missing parent folders; throws when the file cannot be written.
void write_file(const fs::path& file, const std::string& content, mode_t mode = 0644);
std::string read_file(const fs::path& file);
// `size` bytes of a pattern that never repeats within a file and has no zero blocks (so
// --sparse cannot skip it), written fast; another seed gives other bytes.
void write_big_file(const fs::path& file, std::uint64_t size, char seed = 'a');
// A fast 64-bit digest of a file's bytes.
std::uint64_t digest(const fs::path& file);

// One line per entry below `root`: relative path, type and mode, owner, size, mtime of
// regular files, content digest or symlink target or device number, xattrs, and link
// counts with which entries share an inode. Two equal manifests mean the trees are
// identical for everything a restore would see.
std::string manifest(const fs::path& root, bool with_inode_groups = true, bool with_xattrs = true);

// A filesystem of `type` (xfs, btrfs, ext4, ...) on an image file of `size_mib`, made with
// `mkfs.<type> <mkfs_args> IMAGE` and loop-mounted at dir/<type> for the object's lifetime
// (lazily unmounted at destruction). When that cannot be done here (no mkfs, no loop
// devices), skip_reason() says why and the test should skip.
class LoopFilesystem {
 public:
  LoopFilesystem(const fs::path& dir, const std::string& type, std::uint64_t size_mib,
                 const std::vector<std::string>& mkfs_args = {});
  ~LoopFilesystem();
  LoopFilesystem(const LoopFilesystem&) = delete;
  LoopFilesystem& operator=(const LoopFilesystem&) = delete;
  const std::string& skip_reason() const { return skip_reason_; }
  const fs::path& path() const { return mnt_; }
  // Bytes in use, after everything written so far has reached the disk.
  std::uint64_t used() const;

 private:
  fs::path mnt_;
  bool mounted_ = false;
  std::string skip_reason_;
};

// The pids of the processes whose parent is `parent` (from /proc).
std::vector<pid_t> child_processes(pid_t parent);

// Waits for something a test can observe (a file appears, a process is gone, a log line is
// written): looks at `condition` every few milliseconds until it holds. The pause between
// two looks only spaces them out; nothing depends on its length, so it cannot race. `bound`
// only keeps a broken test from hanging until meson's timeout: false once it has passed.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds bound = std::chrono::minutes(1));

// Waits until no process but this one has `needle` in its command line, e.g. until the
// rsync of a killed bkp has gone after its SIGTERM. False if that takes a minute.
bool wait_until_no_process_mentions(const std::string& needle);

}  // namespace bkptest
