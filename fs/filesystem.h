// What the FUSE operations act on: the virtual tree of the Timeline on top, and below each
// snapshot folder a passthrough to the real files. Snapshot content is reached only with
// *at() calls relative to a directory descriptor, one component at a time and with
// O_NOFOLLOW, so neither ".." nor a symlink stored in a backup can lead outside DEST.
// Descriptors are bounded: directories come from one LRU of O_PATH descriptors (a miss
// walks up the parent chain until a cached one is found), reads from another LRU.
#pragma once

#include <fuse_lowlevel.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "fd_cache.h"
#include "inode_table.h"
#include "timeline.h"

namespace bkpfs {

class Passthrough;
class Prefetcher;

struct Tuning {
  double content_timeout = 86400.0;  // snapshot content never changes
  double virtual_timeout = 1.0;      // the timeline does: new snapshots show within ~1 s
  std::size_t dir_fds = 256;         // O_PATH directory descriptors kept open
  std::size_t read_fds = 64;         // descriptors of files being read
};

struct DirEntry {
  std::string name;
  ino_t ino = 0;
  unsigned char type = DT_UNKNOWN;
};

struct Listing {
  ino_t self_ino = 1;  // for "."; glibc skips entries whose d_ino is 0
  std::vector<DirEntry> entries;
  bool immutable = false;  // snapshot content: the kernel may cache it
};

class Filesystem {
 public:
  // `dest_fd` is an O_PATH descriptor of DEST, held for the life of the mount.
  Filesystem(UniqueFd dest_fd, TimelineWatcher& watcher, Tuning tuning = {});

  // nullopt when `name` does not exist in `parent` (a negative entry may be cached).
  std::optional<fuse_entry_param> lookup(NodeId parent, std::string_view name);
  void forget(NodeId id, std::uint64_t count);
  struct stat attr(NodeId id);
  double attr_timeout(NodeId id) const;
  std::string readlink(NodeId id);
  Listing list(NodeId id);
  // Without OPENDIR there is no handle to keep a listing in while the kernel reads it in
  // several READDIR calls: offset 0 lists afresh, later offsets continue the listing kept
  // for the last few directories, so a listing started before its snapshot was removed
  // still completes.
  std::shared_ptr<const Listing> listing_for_readdir(NodeId id, off_t offset);
  SharedFd read_fd(NodeId id);
  // A new read-only descriptor of regular file `name` in the real directory `dir` (or of
  // node `id`), not cached: for the prefetcher and FUSE passthrough, which hand it on.
  UniqueFd open_file(NodeId dir, const std::string& name);
  UniqueFd open_file(NodeId id);
  // The complete snapshot whose content node `id` is (its folder included); nullopt for the
  // virtual tree and for nodes the kernel has forgotten.
  std::optional<std::string> snapshot_of(NodeId id) const;
  struct statvfs statfs() const;
  // The whole value / name list; ENODATA and the like are thrown as std::system_error.
  std::string getxattr(NodeId id, const std::string& name);
  std::string listxattr(NodeId id);

  // Tells the kernel to drop what it cached of the virtual tree that `after` changed.
  void timeline_changed(fuse_session* se, const Timeline& before, const Timeline& after);

  // Set once at FUSE init: the kernel supports skipping OPEN/RELEASE for regular files
  // (see ops_file.cc), so reads arrive with no file handle.
  void set_skip_open(bool skip) { skip_open_ = skip; }
  bool skip_open() const { return skip_open_; }
  // Likewise for directories (see ops_dir.cc): listings are then cached by the kernel until
  // timeline_changed() invalidates the virtual directories whose content changed.
  void set_skip_opendir(bool skip) { skip_opendir_ = skip; }
  bool skip_opendir() const { return skip_opendir_; }

  // Read accelerators set up at mount (passthrough.h, prefetch.h); nullptr when off.
  void set_accelerators(Passthrough* passthrough, Prefetcher* prefetcher) {
    passthrough_ = passthrough;
    prefetcher_ = prefetcher;
  }
  Passthrough* passthrough() const { return passthrough_; }
  Prefetcher* prefetcher() const { return prefetcher_; }

  const InodeTable& nodes() const { return nodes_; }
  const Tuning& tuning() const { return tuning_; }
  std::shared_ptr<const Timeline> timeline() const { return watcher_.current(); }

 private:
  NodeInfo info(NodeId id) const;
  SharedFd dir_fd(NodeId id);
  struct stat virtual_attr(NodeId id, const NodeInfo& node, const Timeline& timeline) const;
  struct stat real_attr(NodeId id, const NodeInfo& node);
  std::string xattr_path(NodeId id, const NodeInfo& node, SharedFd& hold, bool& follow);

  UniqueFd dest_fd_;
  struct stat dest_st_ {};
  TimelineWatcher& watcher_;
  Tuning tuning_;
  InodeTable nodes_;
  FdCache dirs_;
  FdCache reads_;
  bool skip_open_ = false;
  bool skip_opendir_ = false;
  Passthrough* passthrough_ = nullptr;
  Prefetcher* prefetcher_ = nullptr;
  static constexpr std::size_t kRecentListings = 64;
  std::mutex recent_mutex_;
  std::vector<std::pair<NodeId, std::shared_ptr<const Listing>>> recent_listings_;
};

}  // namespace bkpfs
