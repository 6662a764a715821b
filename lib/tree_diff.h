// What is new in snapshot tree B compared with tree A, by the one "unchanged" rule
// (unchanged.h): the answer of `bkp diff` and of bkpfs's changes/ view, which must agree.
//
// Entries are compared by inode first: where both trees are on one device, a name whose
// readdir inode is the same in A and B is a hard link made by an incremental run, hence
// unchanged, with no stat of either side. Only the other names are stat'ed and compared.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bkp {

enum class ChangeKind : char {
  added = '+',     // only in B
  removed = '-',   // only in A
  content = 'M',   // size or mtime differ (a symlink: its target)
  metadata = 'U',  // only mode, owner, group or xattrs differ
  type = 'T',      // another type (a file became a symlink, a directory a file, ...)
};

struct TreeChange {
  ChangeKind kind;
  std::string path;  // relative to the snapshot root, e.g. "docs/a.txt"
  bool directory;    // the entry is a directory (in B; in A when removed)
  ino_t ino;         // its inode (in B; in A when removed), from readdir
  bool operator==(const TreeChange&) const = default;
};

struct DiffOptions {
  bool compare_xattrs = true;      // an xattr difference alone is 'U'
  bool directory_contents = true;  // also list what is below an added or removed directory
};

// Every difference, sorted by path (byte order). A directory appears only when it was
// added or removed (or changed type), never for its own mtime or mode. Entries that
// cannot be read count as removed from that side; throws only when a root cannot be read.
std::vector<TreeChange> diff_trees(int a_root_fd, int b_root_fd, const DiffOptions& options = {});
std::vector<TreeChange> diff_trees(const std::filesystem::path& a, const std::filesystem::path& b,
                                   const DiffOptions& options = {});
// Everything in B as added: the changes of a first snapshot.
std::vector<TreeChange> list_as_added(int b_root_fd);

// One line of `bkp diff`: "+ docs/sub/", "M docs/a.txt".
std::string format_change(const TreeChange& change);

}  // namespace bkp
