// The core of `bkp verify`: reads the files of some snapshots and compares them with their
// checksum records (checksum_record.h), to find silent damage (bit rot, a bad block, a
// torn write) before a restore needs the file.
//
// A hard-linked snapshot store shares one inode between every snapshot in which the file
// did not change, so one bad block damages all of them at once: each inode is read once,
// however many snapshots hold it, and each finding names every snapshot (and name) that
// holds it. Nothing is ever written into a snapshot; with `record`, snapshots that have no
// record get one, from what is on disk now.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "content_hash.h"
#include "store.h"

namespace bkp {

// Which inodes a run reads: all, K of N (the inodes whose hash of the inode number is K-1
// modulo N, so that N runs with K = 1..N read everything exactly once), or a random P%
// drawn anew each run (like restic's --read-data-subset). Missing files are found whatever
// the subset: finding them reads nothing.
struct Subset {
  unsigned k = 1, n = 1;
  double percent = 0;  // > 0: the random P%

  // "K/N" (1 <= K <= N) or "P%" (0 < P <= 100); throws UsageError naming the value.
  static Subset parse(const std::string& text);
  bool all() const { return percent == 0 && n == 1; }
  bool selects(ino_t ino, std::mt19937_64& random) const;
  std::string describe() const;  // "2/7", "10%", "all"
};

enum class Problem { damaged, missing, unreadable };

struct Holder {      // one name of the content in one snapshot
  const Snapshot* snapshot;
  std::string path;  // relative to the snapshot folder
  std::filesystem::path relative() const;  // relative to DEST: <series>/<snapshot>/<path>
};

struct Finding {
  Problem problem;
  std::vector<Holder> holders;       // every snapshot that holds this inode (missing: that recorded it)
  std::optional<Checksum> expected;  // what a record says
  std::optional<Checksum> actual;    // damaged: what the file holds now
  int error = 0;                     // unreadable: errno
  // Repair advice: an intact copy in another snapshot or series (same path, the same
  // recorded checksum, another inode, read now and found intact), relative to DEST.
  std::optional<std::filesystem::path> undamaged_copy;

  std::optional<std::pair<dev_t, ino_t>> inode;  // damaged, unreadable
};

struct SnapshotCheck {
  const Snapshot* snapshot;
  bool had_record = false;  // it had a usable record when the run started
  bool recorded = false;    // `record` wrote one now
  // `record` found no extended attribute (nor ACL) on any entry of a snapshot whose journal
  // does not say (made before bkp recorded `xattrs`): it may be recorded as xattrs = false.
  bool seen_without_xattrs = false;
  std::string problem;      // why it has no usable record, if it has none
};

struct VerifyProgress {
  uint64_t files_done = 0, files_total = 0, bytes_done = 0;
};

struct VerifyOptions {
  Subset subset;
  bool record = false;  // write a record for each checked snapshot that has none
  HashOptions hash{.drop_cache = true};
  std::function<void(const VerifyProgress&)> progress;  // now and then while reading (one thread at a time)
};

struct VerifyReport {
  std::vector<SnapshotCheck> snapshots;
  std::vector<Finding> findings;      // damaged first, then unreadable, then missing
  uint64_t inodes = 0;                // distinct regular files in the checked snapshots
  uint64_t files_read = 0, bytes_read = 0;
  uint64_t unrecorded = 0;            // files on disk that their snapshot's record does not list
  std::vector<std::string> record_problems;  // lines of records that are not checksum lines, and the like

  bool damage_found() const { return !findings.empty(); }
};

// Checks `snapshots` (complete snapshots of `dest`). Throws std::system_error when a
// snapshot or series folder cannot be opened at all, or a record cannot be written.
VerifyReport verify_snapshots(const Destination& dest, const std::vector<const Snapshot*>& snapshots,
                              const VerifyOptions& options);

}  // namespace bkp
