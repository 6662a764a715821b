// What the FUSE operations act on, with no FUSE type in it (the ops translate): the
// virtual tree of the Timeline on top (a map from path to entry, timeline.h), below each
// snapshot folder a passthrough to the real files, and the history views versions/ and
// changes/ (history.h). Snapshot content is reached only with *at() calls relative to a
// directory descriptor, one component at a time and with O_NOFOLLOW (or openat2 beneath
// the snapshot folder), so neither ".." nor a symlink stored in a backup can lead outside
// DEST. Descriptors are bounded: directories come from one LRU of O_PATH descriptors (a
// miss walks up the parent chain until a cached one is found), reads from another LRU.
//
// Every node stands for a place: a path of the view tree, and below it a path relative to
// a snapshot (its backing). Inode numbers agree everywhere: a listing's d_ino is the
// st_ino that stat gives for the entry (real inodes for real entries, and for virtual
// ones a number derived from what they stand for).
#pragma once

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
#include <unordered_map>
#include <vector>

#include "fd.h"
#include "fd_cache.h"
#include "history.h"
#include "inode_table.h"
#include "lru_cache.h"
#include "timeline.h"

namespace bkpfs {

struct Tuning {
  double content_timeout = 86400.0;  // snapshot content never changes
  double virtual_timeout = 1.0;      // the timeline does: new snapshots show within ~1 s
  std::size_t dir_fds = 256;         // O_PATH directory descriptors kept open
  std::size_t read_fds = 64;         // descriptors of files being read
  std::size_t snapshot_fds = 256;    // O_PATH descriptors of snapshot folders (history views)
  // Entries of versions/ and changes/ kept built (a union directory counts one per name,
  // a file's versions one per version, a snapshot's changes one per changed path): about
  // 100 bytes each.
  std::size_t history_entries = 200'000;
  // Answer OPENDIR even where the kernel could skip it. With -o auto_unmount, fusermount3
  // decides that a mount is dead by opening its root; a skipped OPENDIR succeeds from the
  // kernel's cache with no daemon behind it, and the stale mount stays.
  bool answer_opendir = false;
};

// Read-only attribute of the mount's root (not listed): TimelineWatcher::checks(), for
// scripts and tests that must know bkpfs has looked at DEST since they changed it.
inline constexpr const char* kChecksXattr = "user.bkpfs.checks";

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

// The answer to a lookup.
struct Entry {
  NodeId id = 0;  // 0: no such name; cache that for entry_timeout seconds (0: do not)
  struct stat attr {};
  double attr_timeout = 0;
  double entry_timeout = 0;
};

// Something the kernel must forget after the timeline changed: the entry `name` of
// directory `node`, or (empty name) the node's attributes and cached listing or content.
struct Invalidation {
  NodeId node;
  std::string name;
  bool operator==(const Invalidation&) const = default;
};

class Filesystem {
 public:
  // `dest_fd` is an O_PATH descriptor of DEST, held for the life of the mount.
  Filesystem(UniqueFd dest_fd, TimelineWatcher& watcher, Tuning tuning = {});

  Entry lookup(NodeId parent, std::string_view name);
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
  // A new read-only descriptor, not cached, for the prefetcher and FUSE passthrough, which
  // hand it on: of the file `name` in real directory node `dir`, or of file node `id` (as
  // read_fd opens it: content, versions/ and changes/ entries alike).
  UniqueFd open_file(NodeId dir, const std::string& name);
  UniqueFd open_file(NodeId id);
  // The complete snapshot whose content node `id` shows (its folder included, and entries
  // of versions/ and changes/ too); nullopt for the virtual tree (changes/<snapshot> itself
  // included) and for nodes the kernel has forgotten.
  std::optional<std::string> snapshot_of(NodeId id) const;
  // True when that snapshot's journal records that it holds no xattrs and no ACLs.
  bool recorded_without_xattrs(NodeId id) const;
  struct statvfs statfs() const;
  // The whole value / name list; ENODATA and the like are thrown as std::system_error.
  std::string getxattr(NodeId id, const std::string& name);
  std::string listxattr(NodeId id);

  // What the kernel must drop of what it cached, now that `after` replaced `before`.
  std::vector<Invalidation> timeline_changed(const Timeline& before, const Timeline& after);

  // Set once at FUSE init: the kernel supports skipping OPEN/RELEASE for regular files
  // (see ops_file.cc), so reads arrive with no file handle.
  void set_skip_open(bool skip) { skip_open_ = skip; }
  bool skip_open() const { return skip_open_; }
  // Likewise for directories (see ops_dir.cc): listings are then cached by the kernel until
  // timeline_changed() invalidates the virtual directories whose content changed.
  void set_skip_opendir(bool skip) { skip_opendir_ = skip && !tuning_.answer_opendir; }
  bool skip_opendir() const { return skip_opendir_; }

  const InodeTable& nodes() const { return nodes_; }
  const Tuning& tuning() const { return tuning_; }
  std::shared_ptr<const Timeline> timeline() const { return watcher_.current(); }

 private:
  // Where a node is: the view-tree entry it is at or below, and the path below that.
  struct Place {
    NodeInfo node;
    std::string view_path;
    const ViewEntry* view = nullptr;  // nullptr: that part of the tree is gone
    std::string rel;                  // below the view entry ("" at it); for a version: its path
  };
  // What a real entry is reached through: directory `dir` and `name` in it ("" for `dir`).
  struct Backing {
    SharedFd dir;
    std::string name;
  };

  NodeInfo info(NodeId id) const;
  Place place(NodeId id, const Timeline& t) const;
  std::optional<std::string> snapshot_of(NodeId id, const Timeline& t) const;
  Backing backing(NodeId id, const NodeInfo& node, const Timeline& t);
  SharedFd dir_fd(NodeId id, const Timeline& t);
  UniqueFd open_snapshot_dir(const Timeline& t, std::size_t index, const std::string& rel);
  std::uint32_t snapshot_id(const std::string& name);
  std::string snapshot_name(std::uint32_t id) const;
  bool is_real(NodeKind kind, const Place* place) const;

  struct stat virtual_dir_attr(ino_t ino, std::size_t entries, const Timeline& t) const;
  struct stat view_attr(const Place& p, const Timeline& t, NodeId id);
  struct stat real_attr(NodeId id, const NodeInfo& node, const Timeline& t);
  // What a directory node lists: a real folder, the view tree, or a history view.
  enum class DirRole { real, view, changes, versions, none };
  DirRole role(const NodeInfo& node, const Place* p) const;
  Entry lookup_real(NodeId parent, const std::string& name, NodeKind kind, const Timeline& t);
  Entry lookup_view(NodeId parent, const Place& p, const std::string& name, const Timeline& t);
  Entry lookup_changes(NodeId parent, const Place& p, const std::string& name, const Timeline& t);
  Entry lookup_versions(NodeId parent, const NodeInfo& dir, const Place& p, const std::string& name,
                        const Timeline& t);
  Listing list_view(const Place& p, const Timeline& t);

  std::shared_ptr<const UnionListing> union_of(const Timeline& t, const std::string& rel);
  std::shared_ptr<const std::vector<Version>> versions_at(const Timeline& t, const std::string& rel);
  std::shared_ptr<const ChangesIndex> changes_of(const Timeline& t, const std::string& snapshot);
  Listing list_versions(const Place& p, const Timeline& t);
  Listing list_changes(NodeId id, const Place& p, const Timeline& t);
  std::string xattr_path(const Backing& b, bool& follow) const;

  UniqueFd dest_fd_;
  struct stat dest_st_ {};
  TimelineWatcher& watcher_;
  Tuning tuning_;
  InodeTable nodes_;
  FdCache dirs_;
  FdCache reads_;
  FdCache snapshot_dirs_;  // keyed by snapshot id
  bool skip_open_ = false;
  bool skip_opendir_ = false;

  mutable std::mutex snapshot_ids_mutex_;
  std::vector<std::string> snapshot_names_{""};  // id 0 is none
  std::unordered_map<std::string, std::uint32_t> snapshot_ids_;

  LruCache<std::string, UnionListing> unions_;
  LruCache<std::string, std::vector<Version>> versions_;
  LruCache<std::string, ChangesIndex> changes_;

  // Enough for the directories being read at once; each may hold a large listing.
  static constexpr std::size_t kRecentListings = 16;
  std::mutex recent_mutex_;
  std::vector<std::pair<NodeId, std::shared_ptr<const Listing>>> recent_listings_;
};

}  // namespace bkpfs
