// Removing snapshot folders without ever showing a half-deleted one as complete, to bkp, to
// bkpfs or to the original bkp.py. A folder on its way out is first renamed, in its series
// directory, to a hidden name that no reader takes for a snapshot; then the journal drops
// its section (the caller saves it); then the tree is deleted. A run or prune that is
// killed midway leaves a hidden folder that the next one deletes (finish_removals).
//
// Hidden names, bkp's own and nothing else's:
//   .bkp-removing-<snapshot>   being deleted
//   .bkp-partial-<snapshot>    a partial snapshot whose files the running backup reuses
//                              (deleted once that backup is complete)
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

inline constexpr std::string_view kRemovingPrefix = ".bkp-removing-";
inline constexpr std::string_view kReusablePrefix = ".bkp-partial-";

// Renames `name` in the open series directory to its hidden .bkp-removing- name, calls
// `forget` (which drops the journal section and saves the journal), then deletes the
// tree. Throws std::system_error naming the folder on failure.
void remove_snapshot_folder(int series_fd, const std::string& name, const std::function<void()>& forget);

// Renames a partial snapshot to its hidden .bkp-partial- name, so the run that reuses its
// files is the only one that knows of it. Returns the hidden name.
std::string hide_reusable_partial(int series_fd, const std::string& name);

// Deletes a hidden folder of the series (a .bkp-removing- one, or a .bkp-partial- one that
// is no longer needed, which is first renamed to .bkp-removing-).
void delete_hidden_folder(int series_fd, const std::string& hidden_name);

// Deletes every .bkp-removing- folder of the series: what a killed run or prune left.
void finish_removals(int series_fd);

// Deletes the directory tree `name` of `parent_fd` (lib/tree_removal.h); throws Failure
// naming the first entry that could not be removed.
void remove_tree_at(int parent_fd, const std::string& name);

}  // namespace bkp
