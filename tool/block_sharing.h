// Block sharing on reflink filesystems (XFS with reflink=1, btrfs): after rsync has written
// a changed file into the new snapshot, the blocks it has in common with its version in
// the previous snapshot are shared with FIDEDUPERANGE. The kernel compares the bytes under
// lock and shares only identical ranges, so no snapshot's content can change, and an
// interrupted run leaves at worst unshared (but correct) blocks in a partial snapshot.
#pragma once

#include <cstdint>
#include <filesystem>

namespace bkp {

// True when `dir`'s filesystem can clone file ranges (probed with FICLONE on temporary files).
bool reflink_supported(const std::filesystem::path& dir);

struct SharingStats {
  uint64_t files = 0;         // files compared with their previous version
  uint64_t shared_bytes = 0;  // bytes now shared instead of stored twice
};

// Shares identical, block-aligned ranges of `file` with `previous` (same offsets).
SharingStats share_blocks(const std::filesystem::path& file, const std::filesystem::path& previous);

// For every regular file of `snapshot` that is not a hard link to the same path in
// `previous` (i.e. new or changed), shares its blocks with that previous version.
SharingStats share_with_previous(const std::filesystem::path& snapshot, const std::filesystem::path& previous);

}  // namespace bkp
