// The checksum record of a new snapshot, made by the run that wrote it (before its journal
// says complete). Only new inodes are read: a file of an increment whose inode is the one
// at the same path in the previous snapshot was hard-linked there as unchanged (that is the
// only way bkp links files: link_unchanged.h), so it takes the previous record's checksum,
// and an increment costs reading only what changed. Both trees are walked with readdir
// alone (names and inode numbers, no stat per file). Files rsync wrote in this run come
// with the checksum rsync computed as it wrote them (the same XXH3-128, checked by rsync on
// both sides of the copy), so those are not read again either.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "checksum_record.h"
#include "content_hash.h"

namespace bkp {

struct RecordStats {
  uint64_t files = 0;         // regular files recorded
  uint64_t hashed = 0;        // of them, read and hashed (the others: the previous record's)
  uint64_t hashed_bytes = 0;
  uint64_t from_rsync = 0;    // of them, taken from what rsync reported writing
  std::vector<std::string> unreadable;  // files that could not be read: left out of the record
};

// Records every regular file below the open snapshot folder `snapshot_fd`. `previous_fd`
// (or -1) is the previous snapshot of the series; `load_previous` reads its record (or
// returns nullopt), called on a second thread that walks the previous snapshot while this
// one walks the new one. `written` holds the checksums of the files that were written at
// these paths by this run (rsync's report), trusted as they are.
using ChecksumsByPath = std::unordered_map<std::string, Checksum>;
ChecksumRecord checksum_snapshot(int snapshot_fd, int previous_fd,
                                 const std::function<std::optional<ChecksumRecord>()>& load_previous,
                                 const ChecksumsByPath& written, RecordStats& stats, const HashOptions& options = {});

}  // namespace bkp
