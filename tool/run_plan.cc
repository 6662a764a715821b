#include "run_plan.h"

#include "snapshot_removal.h"

namespace bkp {

RunPlan plan_run(const Destination& dest, const PlanOptions& options) {
  RunPlan plan;
  const Series* current = dest.current();
  const Snapshot* newest = current != nullptr ? current->newest_complete() : nullptr;
  plan.incremental = options.incremental && newest != nullptr;
  plan.base = plan.incremental ? newest : nullptr;
  if (!plan.incremental && newest != nullptr) plan.rotate_to = newest->name;
  if (plan.incremental) plan.share_with = newest->path;
  else if (options.share_blocks_full && newest != nullptr)  // where it will be once 0/ is renamed
    plan.share_with = dest.root / newest->name / newest->name;

  for (const Series& series : dest.series) {
    // A journal that cannot be trusted proves nothing partial: leave that series alone.
    if (!series.problems.empty()) continue;
    const bool reusable = series.is_current() && !options.discard_partial && !plan.rotate_to;
    for (const std::string& hidden : series.being_removed) plan.remove_hidden.push_back({series.folder, hidden});
    for (const std::string& hidden : series.reusable_partials) {
      if (reusable && plan.reuse.size() < kMaxReusedPartials) plan.reuse.push_back(hidden);
      else plan.remove_hidden.push_back({series.folder, hidden});
    }
    for (const Snapshot* partial : series.partials()) {
      if (reusable && plan.reuse.size() < kMaxReusedPartials) {
        plan.hide_for_reuse = partial->name;
        plan.reuse.push_back(std::string(kReusablePrefix) + partial->name);
      } else {
        plan.remove_partials.push_back({series.folder, partial->name});
      }
    }
  }
  return plan;
}

}  // namespace bkp
