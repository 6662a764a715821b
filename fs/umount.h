// bkpfs umount MOUNTPOINT: unmounts a bkpfs mount, and only that. Anything else mounted
// there (a bind mount, /proc, another FUSE filesystem) is refused with a message, since
// root's fusermount3 would unmount it too. MOUNTPOINT may be relative, also for a stale
// mount whose daemon is gone (it cannot be resolved through the dead mount itself).
#pragma once

#include <string>

namespace bkpfs {

inline constexpr const char* kMountType = "fuse.bkpfs";

// Returns the exit status (0, or 1 after one "bkpfs: ..." line on stderr).
int unmount(const std::string& mountpoint);

// fusermount3's complaint, said the way bkpfs says things: one line naming `mountpoint`.
std::string translate_fusermount_error(const std::string& mountpoint, const std::string& message);

}  // namespace bkpfs
