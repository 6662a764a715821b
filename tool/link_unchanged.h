// The first half of an incremental snapshot: hard-link every file that is unchanged since
// the previous snapshot into the new one, before rsync runs.
//
// Why not rsync --link-dest alone: since its fixes for path races (3.2.7-deb12u1, 3.4),
// rsync opens every --link-dest candidate by walking its absolute path one component at a
// time, about 20 openat+fstatat per file; on 50,000 small files that made an increment
// 2.5x slower than the original tool's `cp -al` + rsync. Here each file costs two
// fstatat and a linkat relative to open directory descriptors.
//
// Why this cannot rewrite history, unlike `cp -al` + rsync: a file is linked only when its
// size, mtime (to the nanosecond), mode, owner, group and extended attributes (ACLs
// included) all equal the previous version's, so there is nothing for rsync to change on
// it, and rsync then runs with --ignore-existing, so it never touches an existing file even
// if the source changes meanwhile (the snapshot then holds the version from just before).
//
// Hard-link groups come out exactly as in the source: a file with several names is linked
// only when every one of its names is in the walked trees and every name the previous
// snapshot has is that same unchanged inode (a name added to an unchanged file is linked
// too); otherwise the whole group is left to rsync -H, which copies it as one inode. One
// previous inode is never linked for two source inodes (a pair that was split).
#pragma once

#include <cstdint>
#include <filesystem>

namespace bkp {

struct LinkPolicy {
  bool compare_xattrs = true;   // when rsync copies xattrs/ACLs, they must match too
  bool compare_content = false;  // --checksum: the bytes must match as well
};

struct LinkStats {
  uint64_t linked = 0;       // files hard-linked to the previous snapshot
  uint64_t directories = 0;  // directories created to hold them
};

// Mirrors into `target` the directories of `source` that also exist in `previous`, and links
// there the unchanged files. `target` must not exist yet; rsync completes it afterwards.
LinkStats link_unchanged(const std::filesystem::path& source, const std::filesystem::path& previous,
                         const std::filesystem::path& target, const LinkPolicy& policy);

}  // namespace bkp
