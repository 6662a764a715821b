// The first half of a full snapshot: copy the plain files of a local source into the new
// snapshot in-process, before rsync runs with --ignore-existing for everything else. The
// full-run counterpart of link_unchanged.h.
//
// Why not rsync alone: a local rsync moves every byte through socketpairs between its three
// processes in 32 KiB chunks and opens each file about seven times; here a file costs an
// openat, an O_TMPFILE, one sendfile (an in-kernel copy that, unlike copy_file_range,
// works across filesystems and never shares blocks with the source) and a linkat, and
// several files are read at once, which the disk serves much faster than one after the
// other when the files are small.
//
// What is copied here: regular files with one name and no holes (lib/plain_file.h) that
// can be opened, whose owner rsync would keep as it is (as root: every owner, by number,
// which is what bkp's rsync --numeric-ids does; as another user: the user's own files in
// one of its groups), and, when rsync copies extended attributes or ACLs or looks for
// holes, files without any and without a zero 512-byte sector. Directories are created
// private (0700); rsync gives them their mode, owner and times. Everything else stays
// rsync's: symlinks, devices, hard-link groups, sparse files, anything that could not be
// read, entries deeper than kMaxDepth or with paths near rsync's 4095-byte limit.
//
// Why rsync may trust these files (--ignore-existing never looks at them again): each one
// is written into an unnamed O_TMPFILE, given the source's mode (set-id bits included, set
// after the owner), owner and group, and mtime to the nanosecond (the atime stays that of
// the copy, as rsync leaves it), and only then linked under its name, so a crash leaves
// whole files with their final metadata or nothing. A file whose size, mtime or ctime
// changed while it was copied is dropped and left to rsync, so the snapshot never holds a
// mix of two versions; one that changes after its copy is kept as it was just before, as
// in an increment. Nothing here fails the run: whatever could not be copied is rsync's.
#pragma once

#include <cstdint>
#include <filesystem>

namespace bkp {

struct PlainCopyPolicy {
  bool skip_xattrs = false;  // rsync copies xattrs or ACLs: files that have any are left to it
  bool sparse = false;       // rsync --sparse: files with a zero sector are left to it
};

struct PlainCopyStats {
  uint64_t files = 0;        // files copied (rsync will not transfer them)
  uint64_t bytes = 0;        // their size
  uint64_t directories = 0;  // directories created to hold them
};

// Copies the plain files of the local directory `source` into `target`, which must not
// exist yet (it is created, private, for rsync to complete). A `source` that is a symlink
// (rsync copies the link itself), or that holds the target, is left alone.
PlainCopyStats copy_plain_files(const std::filesystem::path& source, const std::filesystem::path& target,
                                const PlainCopyPolicy& policy);

}  // namespace bkp
