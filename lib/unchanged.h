// The one rule for "this file did not change", shared by the incremental run (which hard-
// links such files to the previous snapshot), bkp diff, and bkpfs's versions/ and changes/
// views, so that all of them agree on what a new version is.
//
// Within a series the same inode is the same version (an increment links what did not
// change). Across series, or between a source and a snapshot, two entries are the same
// version when their type, permission bits, owner, group, size and mtime (to the
// nanosecond) are equal; a change of mode or owner alone is a new version. Extended
// attributes (ACLs included) are compared separately, by name and value, where the caller
// stores them (xattr_signature in xattrs.h).
#pragma once

#include <sys/stat.h>

#include <string>

namespace bkp {

enum class Difference : char { none, type, content, metadata };

// What the stat results alone tell, most telling first: another type; other content (size,
// or mtime but for symlinks: rsync does not keep symlink times); other permission bits,
// owner or group. Symlink targets and xattrs are for the callers (compare_entries below).
Difference stat_difference(const struct stat& a, const struct stat& b);

// Same type, mode, uid, gid, size and mtime: stat_difference() is none. For symlinks the
// mtime is not compared, so callers compare the targets as well (same_symlink_target).
bool same_version(const struct stat& a, const struct stat& b);

// The same inode on the same device: a hard link, the same version by construction.
inline bool same_inode(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// True when both entries (regular files or symlinks alike) have the same symlink target;
// true for two non-symlinks.
bool same_symlink_target(int dirfd_a, const char* name_a, int dirfd_b, const char* name_b);

// True when both regular files hold the same bytes (read and compared; for --checksum).
bool same_content(int dirfd_a, const char* name_a, int dirfd_b, const char* name_b);

// How entry b differs from entry a, by the rule above, most telling difference first:
// another type; other content (size, mtime, or a symlink's target); other metadata only
// (permission bits, owner, group, or xattrs when `compare_xattrs`). The same inode is
// `none` without a further call; otherwise the names are read only as needed.
Difference compare_entries(int dirfd_a, const char* name_a, const struct stat& a, int dirfd_b, const char* name_b,
                           const struct stat& b, bool compare_xattrs = true);

}  // namespace bkp
