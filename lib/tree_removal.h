// Removing a directory tree (a snapshot that prune decided to drop, or what a killed prune
// left), fd-relative and on several threads.
//
// The caller first makes the tree invisible as a snapshot (prune renames it to a hidden
// name in its series and drops its journal section), then calls remove_tree() on that
// name. Removal never follows a symlink: every entry is reached with *at() calls on its
// parent's open descriptor (lib/walker.h), a symlink is unlinked as itself, and a directory
// is opened with O_NOFOLLOW, so a symlink inside a snapshot can never make it delete
// anything outside the tree. Nor does it cross a mount point (a bind mount of the same file
// system too, told apart by its mount id): one inside the tree is left alone and reported
// (EBUSY), as are the directories above it, and a tree that is a mount point itself is not
// emptied at all.
//
// What rm -rf cannot do: a directory the caller owns but may not read, write or search
// (mode 000, 0500, ...) is first given u+rwx (chmod that never follows a symlink), so a
// non-root owner removes its own snapshots whatever modes rsync copied; root needs no chmod
// for what it does not own. Paths longer than PATH_MAX are no problem (nothing is ever
// addressed by path); the depth is bounded by the open-file limit (one descriptor per level
// per thread; rsync itself cannot write paths deeper than its 4 KiB path limit).
//
// Removal is idempotent: entries that vanish meanwhile (ENOENT) are not errors, and a
// missing tree is removed already. So a prune that was killed half way is finished by
// calling remove_tree() again on the same hidden name.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace bkp {

struct RemovalOptions {
  // Threads that remove at once; an idle one takes the next subdirectory another one comes
  // to, so even a tree with a single folder is shared.
  unsigned threads = 2;
  // When set, increased by one for each entry removed (files, symlinks, directories, the
  // tree itself), as it happens: another thread may read it for a progress display.
  std::atomic<std::uint64_t>* progress = nullptr;
  // Called for each entry that could not be removed (or chmodded, or read), with its path
  // relative to the parent directory ("NAME/a/b") and the errno. Called from the removal
  // threads, so it must be thread-safe. A directory that stays only because something in it
  // stayed is not reported again.
  std::function<void(const std::string& path, int err)> on_error;
};

struct RemovalResult {
  std::uint64_t removed = 0;   // entries removed, the tree itself included
  std::uint64_t failures = 0;  // entries reported through on_error
  // The first failure as one line, "NAME/a/b: Permission denied" (relative to the parent
  // directory; the caller prefixes where that is); empty when there was none.
  std::string first_error;
  // The tree is gone (also when it was not there at all).
  bool complete = false;
};

// Removes `name` in the open directory `parent_fd` and everything below it. A `name` that
// is not a directory (a file, a symlink) is unlinked itself. Never throws for what is in
// the tree: every problem is counted, reported through options.on_error and summed up in
// the result, and as much as possible is removed. Throws what a callback throws.
RemovalResult remove_tree(int parent_fd, const std::string& name, const RemovalOptions& options = {});

}  // namespace bkp
