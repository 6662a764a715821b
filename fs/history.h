// The two history views, computed from the snapshot folders on demand (nothing at mount
// time) and without FUSE types, so they are unit-tested on plain directories:
//
//   versions/<path>/                 the union of <path> over every complete snapshot; for
//                                    a file or symlink: one entry per distinct version,
//                                    named <snapshot where it first appeared>[.ext]
//   changes/<snapshot>/<path>/       only what is new in <snapshot> compared with the
//                                    complete snapshot before it (bkp::diff_trees)
//
// Distinct versions follow the one rule of unchanged.h: the same inode is the same version
// (an increment links what did not change); other inodes are the same version when type,
// mode, owner, size, mtime (and a symlink's target, and xattrs) are equal.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fd.h"
#include "timeline.h"

namespace bkpfs {

// Opens the directory <rel> ("" for the folder itself) of the index-th snapshot of the
// timeline as an O_PATH descriptor, never through a symlink; an invalid one when missing.
using OpenSnapshotDir = std::function<UniqueFd(std::size_t snapshot, const std::string& rel)>;

// Consecutive appearances of one name with one inode: the snapshots first..last (indices
// in Timeline::snapshots(), others in between may lack the name).
struct Appearance {
  std::uint32_t first, last;
  ino_t ino;
  unsigned char type;  // DT_*
};

struct UnionChild {
  std::vector<Appearance> appearances;  // in snapshot order
  bool directory = false;               // a directory in at least one snapshot
};

// versions/<rel>: every name that <rel> holds in any snapshot. Costs one readdir per
// snapshot that has <rel>, and no stat.
using UnionListing = std::map<std::string, UnionChild>;
UnionListing union_listing(std::size_t snapshots, const std::string& rel, const OpenSnapshotDir& open);

struct Version {
  std::string entry;     // <snapshot>[.ext]
  std::size_t snapshot;  // where it first appeared
  ino_t ino;
  unsigned char type;
};

// The distinct versions of entry `name` of versions/<parent>, oldest first. Stats one
// entry per inode that appears, never one per snapshot.
std::vector<Version> versions_of(const Timeline& timeline, const std::string& parent, const std::string& name,
                                 const UnionChild& child, const OpenSnapshotDir& open);
// "thesis.tex" -> ".tex"; "Makefile", ".bashrc" -> "".
std::string extension_of(const std::string& name);

struct ChangedEntry {
  std::string name;
  ino_t ino;       // of the entry in the snapshot (0 for directories: they get a virtual one)
  bool directory;  // a directory that leads to changed entries
};

// changes/<snapshot>: for each directory ("" is the snapshot folder) its entries that
// are new in the snapshot or lead to one, sorted by name. Directories without anything
// new below them, and removed entries, are left out. (bkpfs shows the first snapshot's
// folder as it is instead: everything in it is new.)
using ChangesIndex = std::map<std::string, std::vector<ChangedEntry>>;
// `previous_fd` < 0: the first snapshot, everything in it is new.
ChangesIndex changes_index(int previous_fd, int snapshot_fd);

}  // namespace bkpfs
