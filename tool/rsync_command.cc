#include "rsync_command.h"

namespace bkp {

std::vector<std::string> build_rsync_argv(const RsyncPlan& plan) {
  std::vector<std::string> argv = {plan.rsync,
                                   "--archive",        // -rlptgoD: perms, times, owners, symlinks, devices
                                   "--hard-links",     // keep hard links inside the sources
                                   "--delete",
                                   "--stats",          // files and bytes for the journal
                                   "--no-human-readable",
                                   // Same size and mtime to the nanosecond, as bkp's own rule
                                   // (lib/unchanged.h): rsync's quick check and --link-dest
                                   // otherwise compare whole seconds, and take a file changed
                                   // within the same second for unchanged.
                                   "--modify-window=-1"};
  if (!plan.rsh.empty()) argv.push_back("--rsh=" + plan.rsh);
  if (plan.sparse) argv.emplace_back("--sparse");  // holes stay holes
  if (plan.numeric_ids) argv.emplace_back("--numeric-ids");
  if (plan.acls) argv.emplace_back("--acls");
  if (plan.xattrs) argv.emplace_back("--xattrs");
  if (plan.checksum) argv.emplace_back("--checksum");
  if (plan.dry_run) argv.emplace_back("--dry-run");
  if (plan.progress) argv.emplace_back("--info=progress2");
  if (plan.prelinked) {
    argv.emplace_back("--ignore-existing");
    argv.emplace_back("--delete-excluded");
  }
  for (const auto& pattern : plan.excludes) argv.push_back("--exclude=" + pattern);
  for (const auto& file : plan.exclude_from) argv.push_back("--exclude-from=" + file);
  for (const auto& dir : plan.link_dests) argv.push_back("--link-dest=" + dir.string());
  argv.emplace_back("--");  // nothing after this is an option, whatever its name
  for (const auto& src : plan.sources) argv.push_back(src.string());
  argv.push_back(plan.target.string() + "/");
  return argv;
}

}  // namespace bkp
