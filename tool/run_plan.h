// What a backup run will do, decided from the destination as found: a pure function of
// the scanned Destination and the options, so every case is a unit test of a table.
//
// Partial snapshots (those the journal's [ACTIVE] names, see journal.h) are the only
// folders a run may delete or reuse. Their files seed the new snapshot (rsync
// --link-dest) when they can share inodes with it: in an incremental run, or in a full run
// of a series without any complete snapshot. A full run that starts a new series cannot
// build on them, so they are deleted before 0/ is renamed (they would otherwise be carried
// into the older series and never removed). A partial snapshot in an older series is
// deleted too. Folders the journal does not account for are never in a plan: a run
// refuses before planning when the current series holds any (Series::faults).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store.h"

namespace bkp {

// rsync accepts at most 20 --link-dest directories; one is the previous snapshot.
inline constexpr std::size_t kMaxReusedPartials = 19;

struct PlanOptions {
  bool incremental = false;
  bool discard_partial = false;
  bool share_blocks_full = false;
};

struct FolderRef {
  std::string series;  // series folder: "0" or a timestamp
  std::string name;    // folder in it
  bool operator==(const FolderRef&) const = default;
};

struct RunPlan {
  bool incremental = false;
  const Snapshot* base = nullptr;              // previous complete snapshot (incremental)
  std::optional<std::string> rotate_to;        // full run: rename 0/ to this first
  std::vector<FolderRef> remove_partials;      // [ACTIVE] partials deleted before the run
  std::vector<FolderRef> remove_hidden;        // hidden leftovers deleted before the run
  std::optional<std::string> hide_for_reuse;   // 0/'s [ACTIVE] partial, hidden, then reused
  std::vector<std::string> reuse;              // hidden folder names in 0/ whose files seed the run
  std::optional<std::filesystem::path> share_with;  // where changed files find their previous version
};

RunPlan plan_run(const Destination& dest, const PlanOptions& options);

}  // namespace bkp
