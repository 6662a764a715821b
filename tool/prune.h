// `bkp prune`: removes the snapshots that the keep rules (lib/retention.h) do not keep,
// crash-safely (lib/snapshot_removal.h). Also run after a successful backup with keep rules.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "retention.h"

namespace bkp {

struct PruneRequest {
  RetentionRules rules;
  std::vector<std::string> remove;  // snapshots named on the command line: removed as well
  bool dry_run = false;
  bool json = false;
};

// Prints a line (or, with json, an object) per snapshot: keep or remove and why; removes
// what is not kept unless dry_run. Returns the names removed. Throws Failure / UsageError.
std::vector<std::string> prune_destination(const std::filesystem::path& root, const PruneRequest& request);

int prune_command(int argc, const char* const argv[]);

}  // namespace bkp
