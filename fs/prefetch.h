// Prefetch of small files. Reading many small files from a cold cache costs one READ round
// trip per file, one after another, each waiting for the disk (tar, cp -r, grep -r). When a
// file of a snapshot directory is read, a background thread reads ahead its small siblings
// that follow it in listing order (wrapping around), all at once (POSIX_FADV_WILLNEED, so
// the disk gets many requests together), and pushes their content into the kernel's FUSE
// page cache (fuse_lowlevel_notify_store), so that reading them asks bkpfs nothing.
//
// Bounded: at most `window_bytes` and `window_files` per read that is not already covered
// by an earlier window, only regular files of at most `file_max` bytes, never more than a
// file's size (a store past EOF would grow the file in the kernel's eyes), and at most
// `queue` windows waiting (more are dropped). So one `cat` in a huge directory reads one
// window, not the directory. Under passthrough the kernel reads the backing files itself:
// the window is then only read ahead in DEST (WILLNEED), not stored.
#pragma once

#include <fuse_lowlevel.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "inode_table.h"

namespace bkpfs {

class Filesystem;
class Passthrough;
struct Listing;

struct PrefetchLimits {
  std::size_t window_bytes = 4u << 20;
  std::size_t window_files = 512;
  std::size_t file_max = 256u << 10;
  std::size_t queue = 16;
};

class Prefetcher {
 public:
  struct Stats {
    std::uint64_t windows = 0;        // windows read
    std::uint64_t files = 0;          // files read ahead
    std::uint64_t bytes = 0;          // bytes read ahead
    std::uint64_t stored_bytes = 0;   // of which pushed into the FUSE page cache
    std::uint64_t largest_window = 0; // bytes
    std::uint64_t dropped = 0;        // windows not read because the queue was full
  };

  // `passthrough`, when given, says whether the kernel reads files itself (then nothing is
  // stored).
  Prefetcher(Filesystem& fs, PrefetchLimits limits, const Passthrough* passthrough = nullptr);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Starts the background thread, which stores into the FUSE page cache of session `se`
  // (unless passthrough is on). After fuse_daemonize: threads do not survive a fork.
  void start(fuse_session* se);
  void stop();

  // A read (or, under passthrough, an open) of snapshot file `id`: schedules a window
  // after it unless one already covered it. Cheap; never blocks on I/O.
  void on_read(NodeId id);

  Stats stats() const;
  const PrefetchLimits& limits() const { return limits_; }

 private:
  // What is known of one directory: its listing and the entries windows have covered.
  struct DirState {
    NodeId dir = 0;
    std::shared_ptr<const Listing> listing;  // taken by the first window
    std::unordered_set<std::string> covered;
  };

  void run();
  void read_window(NodeId dir, const std::string& name);
  DirState* find_state(NodeId dir);  // under mutex_

  Filesystem& fs_;
  const PrefetchLimits limits_;
  const Passthrough* const passthrough_;
  fuse_session* se_ = nullptr;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<std::pair<NodeId, std::string>> queue_;  // (directory, file read)
  std::list<DirState> dirs_;                           // most recently used first, a few
  Stats stats_;
  std::thread thread_;
};

}  // namespace bkpfs
