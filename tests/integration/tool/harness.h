// Helpers for integration tests that drive the built bkp as a user would: temporary
// directories, running a program and capturing its output, and a manifest of a tree that
// tells whether anything in it changed (content, metadata, inode sharing).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bkptest {

namespace fs = std::filesystem;

// A fresh directory on disk (not tmpfs), removed with everything in it at destruction.
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

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// The built binaries, from the environment meson sets (BKP, FAKE_RSYNC).
std::string bkp_binary();
std::string fake_rsync();
RunResult run_bkp(const std::vector<std::string>& args, const RunOptions& options = {});

void write_file(const fs::path& file, const std::string& content, mode_t mode = 0644);
std::string read_file(const fs::path& file);
// A file of `size` bytes of a non-zero pattern (so --sparse cannot skip it), written fast.
void write_big_file(const fs::path& file, uint64_t size, char seed = 'a');

// One line per entry: relative path, type, mode, owner, size, mtime, content digest or
// symlink target, xattrs, and which entries share an inode. Two equal manifests mean the
// trees are identical for everything a restore would see.
std::string manifest(const fs::path& root, bool with_inode_groups = true);
// Full manifest of DEST including every byte of cfg.ini, for "refusal changed nothing".
std::string destination_state(const fs::path& dest);

struct Layout {
  std::vector<std::string> series;     // folder names under DEST with a cfg.ini
  std::vector<std::string> snapshots;  // folder names under DEST/0 that look like timestamps
};
Layout layout(const fs::path& dest);
std::string journal(const fs::path& dest, const std::string& series = "0");

ino_t inode_of(const fs::path& p);
int count_lines(const std::string& text);

}  // namespace bkptest
