// Opening a path below a directory one already holds, without ever leaving it: no
// symlink is followed in any component and ".." cannot climb out (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). This is how bkp reaches into snapshots and DEST
// by relative path, so a symlink planted there can never redirect a read or a write.
#pragma once

#include <sys/types.h>

#include <string>

namespace bkp {

// Like openat(root_fd, rel, flags, mode), but fails with ELOOP/EXDEV instead of following
// a symlink or leaving root_fd's tree. Returns the descriptor or -1 with errno set.
int open_beneath(int root_fd, const std::string& rel, int flags, mode_t mode = 0);

}  // namespace bkp
