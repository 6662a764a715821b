// The backup run's checksum record (lib/snapshot_checksums.h): made after rsync and block
// sharing, before the journal says complete, so a complete snapshot always has one.
#pragma once

#include <filesystem>
#include <string>

#include "journal.h"
#include "store.h"

namespace bkp {

// Records the checksums of snapshot `name` of the open series directory, taking those of
// files linked to `previous` (or nullptr) from its record. Returns the journal keys that
// say so: checksum_record, checksum_files, checksum_hashed. Throws when the record cannot
// be written (the snapshot then stays partial).
// `series_dir` names the series in messages.
JournalFields record_checksums(int series_fd, const std::filesystem::path& series_dir, const std::string& name,
                               const Snapshot* previous);

}  // namespace bkp
