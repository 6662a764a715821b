#include "rsync_command.h"

#include "child_process.h"

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
  if (plan.report_checksums) {
    // Forced rather than negotiated, so that %C can only be an XXH3-128: the same hash as
    // the record's, computed over the data rsync wrote and checked on both sides.
    argv.emplace_back("--checksum-choice=xxh128");
    argv.push_back("--out-format=" + std::string(kChecksumLinePrefix) + "%C %n");
  }
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

bool rsync_has_xxh128(const std::string& rsync) {
  bool listed = false, in_checksums = false;
  try {
    Child child = spawn_child({rsync, "--version"});
    const int status = stream_child(
        child,
        [&](const std::string& line, bool) {
          if (line.starts_with("Checksum list:")) in_checksums = true;
          else if (in_checksums && line.find("xxh128") != std::string::npos) listed = true;
          else if (!line.starts_with(" ")) in_checksums = false;
        },
        [](const std::string&, bool) {});
    return status == 0 && listed;
  } catch (const std::exception&) {
    return false;  // no rsync: the run itself says so
  }
}

}  // namespace bkp
