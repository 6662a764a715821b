// The one tree walk of bkp and bkpfs: fd-relative (every entry is reached with *at() calls
// on its parent's open descriptor, never by a rebuilt absolute path, so a symlink or a
// rename elsewhere cannot redirect it), never follows symlinks, and holds one descriptor
// per level of depth (and per thread). Used for sources (what they hold), snapshots (space, block sharing,
// checksums, removal) and comparisons.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

struct WalkEntry {
  int dir_fd;              // the open directory that holds the entry (valid during the call)
  const char* name;        // its name there, for *at() calls
  const std::string& path; // relative to the walk's root, e.g. "docs/a.txt"
  const struct stat& st;   // lstat() of the entry (only the type and st_ino, from readdir's
                           // d_type and d_ino, if WalkOptions::stat is off)
  unsigned depth;          // 0 for the root's own entries
};

enum class Visit {
  descend,  // for a directory: walk its content (then `leave` is called); else: go on
  skip,     // do not walk this directory's content
  stop,     // end the whole walk
};

struct WalkCallbacks {
  std::function<Visit(const WalkEntry&)> enter;                  // every entry, parents first
  std::function<void(const WalkEntry&)> leave;                    // a directory after its content
  std::function<void(const std::string& path, int err)> error;    // an entry that could not be read
};

struct WalkOptions {
  // > 1: the walk runs on that many threads (the caller's and threads - 1 more): each
  // thread walks depth first and queues subdirectories it comes to, at any depth, while
  // fewer than `threads` are queued; a thread that runs out of work takes the oldest. So
  // one big subdirectory is shared too. The callbacks are called from all of them
  // at once (they must be thread-safe); `leave` still comes after everything below that
  // directory, on whichever thread finished last there. An exception from a callback ends
  // the walk on every thread and is rethrown to the caller.
  unsigned threads = 1;
  // false: only the type and inode number are filled in (from readdir), saving a stat per
  // entry where the caller needs no more.
  bool stat = true;
  // true: a directory's entries are visited by inode number, which on ext4 and XFS follows
  // their place on disk (a cold walk or copy then reads ahead instead of seeking), rather
  // than in readdir's (hash) order.
  bool inode_order = false;
};

// One entry of a directory as readdir gives it: no stat (d_ino and d_type only).
struct DirName {
  std::string name;
  ino_t ino;
  unsigned char type;  // DT_* (DT_UNKNOWN on filesystems that do not fill it in)
};

// Every entry of the open directory `dir_fd` but "." and "..", in readdir order; the
// listing is read whole and the stream closed. false (errno set) when it cannot be read.
bool read_directory(int dir_fd, std::vector<DirName>& out);

// Walks everything below the open directory `root_fd` (the root itself is not visited).
// Returns false when a callback stopped the walk.
bool walk_tree(int root_fd, const WalkCallbacks& callbacks, const WalkOptions& options = {});
// Opens `root` (refusing a symlink) and walks it; throws std::system_error when it cannot.
bool walk_tree(const std::filesystem::path& root, const WalkCallbacks& callbacks, const WalkOptions& options = {});

}  // namespace bkp
