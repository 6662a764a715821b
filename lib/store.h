// The snapshot store: what a destination holds, discovered from disk alone.
//
//   DEST/0/cfg.ini, DEST/0/<snapshot>/...         the current series
//   DEST/<newest snapshot>/cfg.ini, .../<snapshot>  older series, renamed from 0
//
// Everything is located by where cfg.ini actually is (never by its `backup`/`cwd` keys,
// which go stale when a series is renamed or DEST is moved). A snapshot is complete only
// when its folder exists and the journal has its section with status = complete; partial
// when the journal's [ACTIVE] section names it; unknown otherwise (see journal.h). Only
// complete snapshots are ever offered as backups.
#pragma once

#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bkp {

inline constexpr const char* kCurrentSeries = "0";
inline constexpr const char* kLockFile = ".bkp.lock";

struct Snapshot {
  std::string name;              // timestamp folder name, unique within a destination
  std::string series;            // folder of its series: "0" or a timestamp
  std::filesystem::path path;    // DEST/<series>/<name>
  std::time_t time = 0;          // parsed from name
  bool complete = false;
  bool partial = false;          // named by [ACTIVE]: its run never completed
  bool failed = false;           // its own section says status = failed (or partial), as the
                                 // original bkp.py could leave it: accounted for, never removed
  bool pinned = false;           // pinned = true: prune never removes it
  std::map<std::string, std::string> journal;  // its cfg.ini section (empty if none)

  bool unknown() const { return !complete && !partial && !failed; }
};

struct Series {
  std::string folder;            // "0" for the current series, else a timestamp
  std::filesystem::path path;    // DEST/<folder>
  std::vector<Snapshot> snapshots;  // complete, partial and unknown, oldest first
  bool has_journal = false;      // false: snapshot folders without a cfg.ini
  // bkp's hidden folders (snapshot_removal.h): partial snapshots a backup reuses, and
  // folders whose removal was interrupted.
  std::vector<std::string> reusable_partials;
  std::vector<std::string> being_removed;
  std::vector<std::string> problems;  // why its journal cannot be trusted (journal.h)

  bool is_current() const { return folder == kCurrentSeries; }
  const Snapshot* newest_complete() const;
  const Snapshot* first_complete() const;  // by-series/ names a series after it
  std::vector<const Snapshot*> partials() const;   // named by [ACTIVE]
  std::vector<const Snapshot*> unknowns() const;
  // Problems and unknown folders, one line each: what makes a command that writes refuse.
  std::vector<std::string> faults() const;
};

struct Destination {
  std::filesystem::path root;
  std::vector<Series> series;  // older series oldest first, then the current series "0"
  std::vector<std::string> being_removed;  // whole series whose removal was interrupted

  // Reads the folder names and each cfg.ini; never opens snapshot contents, so it is cheap
  // even with thousands of snapshots. Series folders are 0/ and timestamp-named folders
  // that hold a cfg.ini or timestamp-named folders (a series that lost its journal).
  // Throws std::system_error if `root` is unreadable.
  static Destination scan(const std::filesystem::path& root);
  // True when `root` holds 0/cfg.ini or at least one series folder with a cfg.ini.
  static bool looks_like_destination(const std::filesystem::path& root);

  const Series* current() const;  // nullptr when there is no 0/
  // Every complete snapshot of every series, one flat list sorted by name (= time).
  std::vector<const Snapshot*> complete_snapshots() const&;
  // The pointers would outlive a temporary Destination: scan into a variable first.
  std::vector<const Snapshot*> complete_snapshots() && = delete;
  std::size_t complete_count() const;
  const Snapshot* newest_complete() const;
  const Snapshot* find_snapshot(const std::string& name) const;
  // True when `name` is taken by any snapshot or series folder.
  bool name_taken(const std::string& name) const;
};

}  // namespace bkp
