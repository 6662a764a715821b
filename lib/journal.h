// The series journal, DEST/<series>/cfg.ini (see ../shared/contract.md): one section per
// completed run named by its snapshot, plus an [ACTIVE] section while a run is in progress
// or after it was interrupted. This is the only code that writes journal keys; bkp's
// commands say what happened (begin, fail, complete, forget, pin) and the journal records it
// in the original bkp.py's format, keeping every key and section it does not know.
//
// What a snapshot folder of the series is, by the journal:
//   complete  its section says status = complete (case-insensitive, as configparser reads it)
//   partial   the [ACTIVE] section names it: the run that made it never completed
//   failed    its own section says status = failed or partial (the original bkp.py's record
//             of a failed run): never shown as a backup, never removed
//   unknown   anything else (no section, or a status bkp does not know). bkp never deletes,
//             moves or builds on an unknown folder; `bkp repair` accounts for them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ini.h"
#include "unique_fd.h"

namespace bkp {

inline constexpr const char* kJournalFile = "cfg.ini";
inline constexpr const char* kActiveSection = "ACTIVE";
inline constexpr const char* kStatusComplete = "complete";
inline constexpr const char* kStatusPartial = "partial";
inline constexpr const char* kStatusFailed = "failed";

// Keys a command adds to a section beyond the contract's own (rsync_exit, files, ...).
using JournalFields = std::vector<std::pair<std::string, std::string>>;

class Journal {
 public:
  Journal() = default;  // empty, read-only
  // Reads DEST/<series>/cfg.ini (never through a symlink). A missing file is an empty
  // journal; `problems()` lists what would make a writer refuse. Throws std::system_error
  // when the file exists but cannot be read.
  static Journal read(const std::filesystem::path& series_dir);
  // The same on an open series directory (O_RDONLY|O_DIRECTORY), kept for save().
  static Journal open(UniqueFd series_fd, const std::filesystem::path& series_dir);
  // For a command that changes a snapshot's section (pin, verify --record): opens the series
  // folder (never through a symlink) and its journal; throws Failure when either cannot be
  // opened or the journal has problems (bkp repair mends those first).
  static Journal open_to_update(const std::filesystem::path& series_dir);

  // Each problem is one line: "DEST/0/cfg.ini: line 3: not a 'key = value' line".
  const std::vector<std::string>& problems() const { return problems_; }
  bool exists() const { return exists_; }

  bool is_complete(const std::string& snapshot) const;
  bool is_pinned(const std::string& snapshot) const;
  // The snapshot named by [ACTIVE] timestamp, if a run is (or was left) in progress.
  std::optional<std::string> active_snapshot() const;
  const IniSection* section(const std::string& name) const { return doc_.find(name); }
  const std::vector<IniSection>& sections() const { return doc_.sections(); }

  // A run of `snapshot` starts: [ACTIVE] timestamp, status = partial, sources (JSON list),
  // backup (the series path at this time) and cwd, replacing any earlier [ACTIVE].
  void begin(const std::string& snapshot, const std::vector<std::string>& sources, const std::string& backup);
  // The run failed: [ACTIVE] gets status = failed and the details; its folder stays partial.
  void fail(const JournalFields& details);
  // The run completed: [ACTIVE] becomes the snapshot's section with status = complete,
  // `finished` and the details.
  void complete(const JournalFields& details);
  // The partial snapshot [ACTIVE] named is gone: drop the section.
  void drop_active();
  // A snapshot was removed (prune): drop its section.
  void forget(const std::string& snapshot);
  void set_pinned(const std::string& snapshot, bool pinned);
  // xattrs = false for a complete snapshot made before runs recorded it, seen to hold no
  // extended attribute (bkp verify --record): bkpfs then answers xattr questions about it
  // without asking the disk, which makes `ls -l` of its big directories fast.
  void record_without_xattrs(const std::string& snapshot);
  // `bkp repair`: records a folder found without a usable section as complete, marked
  // `verified = false` with the reason, so it is shown and kept but never vouched for.
  void vouch_unverified(const std::string& snapshot, const std::string& reason);

  // Atomic and fd-relative (IniDocument::save). Only for a journal made by open().
  void save() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  void load_text(const std::optional<std::string>& text);

  std::filesystem::path file_;
  UniqueFd dir_fd_;
  IniDocument doc_;
  std::vector<std::string> problems_;
  bool exists_ = false;
};

// True for a status value bkp and the original bkp.py write.
bool is_known_status(const std::string& value);

}  // namespace bkp
