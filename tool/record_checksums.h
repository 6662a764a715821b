// The backup run's checksum record (lib/snapshot_checksums.h): made after rsync and block
// sharing, before the journal says complete, so a complete snapshot always has one.
#pragma once

#include <filesystem>
#include <string>

#include "journal.h"
#include "snapshot_checksums.h"
#include "store.h"

namespace bkp {

// Records the checksums of snapshot `name` of the open series directory, taking those of
// files linked to `previous` (or nullptr) from its record and those of the files rsync
// wrote from its report. Returns the journal keys that say so: checksum_record,
// checksum_files, checksum_hashed (files read for it), checksum_from_rsync. Throws when the record cannot
// be written (the snapshot then stays partial).
// `series_dir` names the series in messages.
JournalFields record_checksums(int series_fd, const std::filesystem::path& series_dir, const std::string& name,
                               const Snapshot* previous, const ChecksumsByPath& written_by_rsync);

}  // namespace bkp
