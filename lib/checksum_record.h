// The checksum record of a snapshot: the content checksum of each of its regular files,
// written by the run that made it (or by `bkp verify --record`) and read by `bkp verify`.
//
//   DEST/<series>/.bkp-checksums/<snapshot>.xxh128
//
// One line per regular file in xxhsum's format, sorted by path:
//   <32 hex digits of XXH3-128>  <path relative to the snapshot folder>
// A path holding a backslash, newline or carriage return is escaped as xxhsum (0.8.2 and
// later) does it: the line starts with '\' and those bytes are written \\, \n and \r.
// Anyone can check a snapshot without bkp (see bkp(1), VERIFY):
//   cd DEST/<series>/<snapshot> && xxhsum -c ../.bkp-checksums/<snapshot>.xxh128
//
// The folder is hidden and not named like a timestamp, so neither bkp's scans, bkpfs nor
// the original bkp.py (which look only at timestamp-named folders and cfg.ini) take it for
// a snapshot or a series; it moves with its series when 0/ is renamed. Records are plain
// text, not compressed: about 35 bytes plus the path per file, the order of what the
// directory entries of an incremental snapshot cost, and readable by xxhsum as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atomic_file.h"
#include "content_hash.h"

namespace bkp {

inline constexpr const char* kChecksumDir = ".bkp-checksums";
inline constexpr const char* kChecksumSuffix = ".xxh128";

struct RecordEntry {
  std::string path;  // relative to the snapshot folder, e.g. "home/ann/a.txt"
  Checksum sum;
};

// Entries are kept sorted by path, one per path, so that a record is found into by binary
// search and compared with a sorted tree listing in one pass, with no index beside it (a
// record holds a line per file of a snapshot: 50,000 and more). Adding in path order, as
// records are read and made, appends; any other order is sorted out at the next lookup,
// which is therefore not to be made from two threads at once.
class ChecksumRecord {
 public:
  // Adds or replaces the checksum of `path`.
  void add(std::string path, const Checksum& sum);
  void reserve(size_t entries) { entries_.reserve(entries); }
  // The entry of `path`, or nullptr. Entries keep their place until the next add().
  const RecordEntry* find(std::string_view path) const;
  // The index of `path` in entries(), or -1.
  long index_of(std::string_view path) const;
  // Sorted by path.
  const std::vector<RecordEntry>& entries() const;
  size_t size() const { return entries().size(); }
  bool empty() const { return entries_.empty(); }

  // The file's text: xxhsum lines sorted by path.
  std::string text() const;
  // Reads a record's text; each line that is not a checksum line is skipped and named in
  // `problems` ("line 3: not a checksum line").
  static ChecksumRecord parse(std::string_view text, std::vector<std::string>* problems = nullptr);

 private:
  // Sorts entries_ by path, the last one added for a path winning, if adds came out of order.
  void sort() const;

  mutable std::vector<RecordEntry> entries_;
  mutable bool sorted_ = true;  // entries_ sorted by path, one per path
};

// One xxhsum line (with its newline) for `path`, escaped where xxhsum would escape it.
std::string checksum_line(const Checksum& sum, std::string_view path);

// "2026-11-20_02:00:00.xxh128"
std::string checksum_record_name(const std::string& snapshot);

// The record of `snapshot` in the open series directory, or nullopt when it has none.
// Never follows a symlink (a planted one is an error). Throws std::system_error naming the
// file when it exists but cannot be read. Messages start with the path relative to the
// series folder (".bkp-checksums/<snapshot>.xxh128: cannot read it").
std::optional<ChecksumRecord> read_checksum_record(int series_fd, const std::string& snapshot,
                                                   std::vector<std::string>* problems = nullptr);

bool has_checksum_record(int series_fd, const std::string& snapshot);

// Writes (or replaces) the record of `snapshot` atomically (atomic_file.h), creating the
// .bkp-checksums folder when needed; refuses a symlink in its place. Throws
// std::system_error naming what failed. A backup run leaves the fsync to its syncfs of the
// destination, which comes before its journal says complete.
void write_checksum_record(int series_fd, const std::string& snapshot, const ChecksumRecord& record,
                           Durability durability = Durability::fsync);

// For prune: the snapshot `snapshot` of the open series directory is gone (or going), so
// its record goes too. True when there was one; a missing record is not an error.
bool forget_checksum_record(int series_fd, const std::string& snapshot);

// Removes the records of the open series directory whose snapshot folder is gone (a run
// that failed after writing its record, a partial snapshot removed since) and temporary
// files a crash left in .bkp-checksums. Only under the destination's lock. Returns how
// many files went.
unsigned forget_orphan_checksum_records(int series_fd);

}  // namespace bkp
