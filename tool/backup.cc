#include "backup.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <optional>

#include "block_sharing.h"
#include "errors.h"
#include "json.h"
#include "journal.h"
#include "link_unchanged.h"
#include "lock.h"
#include "preflight.h"
#include "rsync_command.h"
#include "rsync_runner.h"
#include "source_traits.h"
#include "store.h"
#include "timestamp.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

// rsync accepts at most 20 --link-dest directories; one is the previous snapshot.
constexpr size_t kMaxReusedPartials = 19;

std::string snapshot_name_for(const Destination& dest, std::time_t start) {
  std::string name = format_timestamp(start);
  while (dest.name_taken(name)) name = format_timestamp(++start);  // never merge into a snapshot
  return name;
}

void remove_tree(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) throw Failure(dir.string() + ": cannot remove it: " + ec.message());
}

void sync_filesystem(const fs::path& dir) {
  // The journal may call a snapshot complete only once its data is on disk.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::syncfs(fd);
  ::close(fd);
}

std::vector<std::string> as_strings(const std::vector<fs::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

// What this run will do, decided from the destination as found.
struct RunPlan {
  bool incremental = false;
  const Snapshot* base = nullptr;             // previous complete snapshot (incremental)
  std::optional<std::string> rotate_to;       // full run: rename 0/ to this first
  std::vector<const Snapshot*> reuse;         // partials whose copied files are reused
  std::vector<const Snapshot*> discard;       // partials deleted (--discard-partial)
  std::optional<fs::path> share_with;         // where changed files find their previous version
};

RunPlan plan_run(const Destination& dest, const BackupOptions& options) {
  RunPlan plan;
  const Series* current = dest.current();
  const Snapshot* newest = current != nullptr ? current->newest_complete() : nullptr;
  if (options.incremental && newest == nullptr) {
    spdlog::warn("no complete snapshot in {}: taking a full snapshot instead of an incremental one",
                 (dest.root / kCurrentSeries).string());
  }
  plan.incremental = options.incremental && newest != nullptr;
  plan.base = plan.incremental ? newest : nullptr;
  if (!plan.incremental && newest != nullptr) plan.rotate_to = newest->name;
  if (plan.incremental) plan.share_with = newest->path;
  else if (options.share_blocks_full && newest != nullptr)  // where it will be once 0/ is renamed
    plan.share_with = dest.root / newest->name / newest->name;
  if (current == nullptr) return plan;

  // Partials of 0/ can seed this run only if they share no inode with another series, which
  // is the case for an incremental run (same series) or a series without a complete snapshot.
  const bool may_reuse = plan.incremental || newest == nullptr;
  for (const Snapshot* partial : current->partials()) {
    if (options.discard_partial) plan.discard.push_back(partial);
    else if (may_reuse && plan.reuse.size() < kMaxReusedPartials) plan.reuse.push_back(partial);
  }
  return plan;
}

// Unchanged files are linked to the previous snapshot (by rsync unless `prelinked`);
// files an interrupted run had already copied are taken from its partial snapshot.
std::vector<fs::path> link_dests_of(const RunPlan& plan, bool prelinked) {
  std::vector<fs::path> dirs;
  if (plan.base && !prelinked) dirs.push_back(plan.base->path);
  for (const Snapshot* p : plan.reuse) dirs.push_back(p->path);
  return dirs;
}

// Links the unchanged files of every source into the new snapshot before rsync runs.
LinkStats prelink_unchanged(const RunPlan& plan, const std::vector<fs::path>& sources, const fs::path& target,
                            const DestinationFeatures& features) {
  LinkStats total;
  for (const auto& src : sources) {
    const auto name = src.filename();
    const LinkStats one = link_unchanged(src, plan.base->path / name, target / name,
                                         LinkPolicy{.compare_xattrs = features.acls || features.xattrs});
    total.linked += one.linked;
    total.directories += one.directories;
  }
  spdlog::debug("linked {} unchanged files in {} directories to {}", total.linked, total.directories, plan.base->name);
  return total;
}

void describe_plan(const RunPlan& plan, const std::string& name, const fs::path& dest) {
  if (plan.rotate_to) spdlog::info("full run: {} becomes the older series {}", (dest / "0").string(), *plan.rotate_to);
  for (const Snapshot* p : plan.discard) spdlog::info("discarding partial snapshot {}", p->path.string());
  for (const Snapshot* p : plan.reuse) spdlog::info("reusing files of partial snapshot {}", p->path.string());
  spdlog::info("{} snapshot {}{}", plan.incremental ? "incremental" : "full",
               (dest / kCurrentSeries / name).string(),
               plan.base ? " (unchanged files linked to " + plan.base->name + ")" : std::string());
}

void write_active(Journal& journal, const std::string& name, const std::vector<fs::path>& sources,
                  const fs::path& series_dir) {
  IniSection& active = journal.document().section(kActiveSection);
  active = IniSection(kActiveSection);
  active.set("timestamp", name);
  active.set("status", kStatusPartial);
  active.set("sources", json_string_list(as_strings(sources)));
  active.set("backup", series_dir.string());
  active.set("cwd", fs::current_path().string());
  journal.save();
}

// On reflink filesystems, changed files share their unchanged blocks with their previous
// version; elsewhere an increment costs whole changed files, as with plain hard links.
SharingStats share_changed_blocks(const RunPlan& plan, const fs::path& target, bool wanted, bool supported) {
  if (!wanted || !plan.share_with) return {};
  if (!supported) {
    spdlog::info("block sharing is unavailable on this filesystem (no reflink): changed files are stored whole");
    return {};
  }
  const SharingStats stats = share_with_previous(target, *plan.share_with);
  spdlog::info("shared {} bytes of {} changed files with their previous versions", stats.shared_bytes, stats.files);
  return stats;
}

void write_complete(Journal& journal, const std::string& name, const std::vector<fs::path>& sources,
                    const fs::path& series_dir, const RunPlan& plan, const RsyncResult& result,
                    const SharingStats& sharing) {
  journal.document().remove(kActiveSection);
  IniSection& done = journal.document().section(name);
  done.set("timestamp", name);
  done.set("status", kStatusComplete);
  done.set("sources", json_string_list(as_strings(sources)));
  done.set("backup", series_dir.string());
  done.set("cwd", fs::current_path().string());
  done.set("finished", format_timestamp(std::time(nullptr)));
  done.set("kind", plan.incremental ? "incremental" : "full");
  if (plan.base) done.set("previous", plan.base->name);
  done.set("rsync_exit", std::to_string(result.exit_code));
  done.set("files", std::to_string(result.files));
  done.set("bytes", std::to_string(result.bytes));
  if (sharing.files > 0) done.set("shared_bytes", std::to_string(sharing.shared_bytes));
  if (result.exit_code == 23) done.set("warning", "some files could not be read; see the log of this run");
  journal.save();
}

}  // namespace

int run_backup(const BackupOptions& options) {
  const auto sources = check_sources(options.sources, options.allow_empty);
  RsyncPlan rsync;
  rsync.rsync = find_rsync();
  const fs::path dest_root = fs::absolute(options.destination).lexically_normal();
  rsync.sources = sources;
  rsync.numeric_ids = ::geteuid() == 0;
  rsync.checksum = options.checksum;
  rsync.excludes = options.excludes;
  rsync.exclude_from = options.exclude_from;
  rsync.progress = options.log.verbosity >= 0 && ::isatty(STDERR_FILENO);

  if (options.dry_run) {
    // Read-only: no lock, no journal; rsync --dry-run into where the snapshot would go
    // (rsync creates nothing there) tells what would be transferred.
    const Destination dest = fs::is_directory(dest_root) ? Destination::scan(dest_root) : Destination{dest_root, {}};
    const RunPlan plan = plan_run(dest, options);
    const std::string name = snapshot_name_for(dest, std::time(nullptr));
    describe_plan(plan, name, dest_root);
    rsync.dry_run = true;
    rsync.target = dest_root / kCurrentSeries / name;
    rsync.link_dests = link_dests_of(plan, false);
    const auto result = run_rsync(build_rsync_argv(rsync), rsync.progress);
    spdlog::info("dry run: would transfer {} files, {} bytes; nothing was changed", result.files, result.bytes);
    return classify_rsync_exit(result.exit_code) == RsyncOutcome::failed ? kExitFailure : kExitOk;
  }

  const DestinationFeatures features = check_destination(dest_root);
  const SourceTraits traits = scan_source_traits(sources);
  rsync.acls = features.acls && traits.xattrs;
  rsync.xattrs = features.xattrs && traits.xattrs;
  rsync.sparse = traits.sparse;
  if (!features.acls || !features.xattrs)
    spdlog::warn("destination {} does not support {}; they are not preserved", dest_root.string(),
                 !features.acls && !features.xattrs ? "ACLs and extended attributes"
                 : !features.acls                   ? "ACLs"
                                                    : "extended attributes");
  DestinationLock lock(dest_root);

  const Destination dest = Destination::scan(dest_root);
  const RunPlan plan = plan_run(dest, options);
  const std::string name = snapshot_name_for(dest, std::time(nullptr));
  describe_plan(plan, name, dest_root);

  for (const Snapshot* p : plan.discard) remove_tree(p->path);
  const fs::path series_dir = dest_root / kCurrentSeries;
  if (plan.rotate_to) {
    if (::rename(series_dir.c_str(), (dest_root / *plan.rotate_to).c_str()) != 0)
      throw Failure(series_dir.string() + ": cannot rename it to " + *plan.rotate_to + ": " + std::strerror(errno));
  }
  std::error_code ec;
  fs::create_directories(series_dir, ec);
  if (ec) throw Failure(series_dir.string() + ": cannot create it: " + ec.message());

  Journal journal = Journal::load(series_dir);
  if (!plan.discard.empty()) journal.document().remove(kActiveSection);
  write_active(journal, name, sources, series_dir);
  const fs::path target = series_dir / name;
  if (::mkdir(target.c_str(), 0755) != 0)
    throw Failure(target.string() + ": cannot create it: " + std::strerror(errno));

  // With --checksum, "unchanged" needs rsync's checksums: leave the linking to --link-dest.
  rsync.prelinked = plan.base != nullptr && !options.checksum;
  if (rsync.prelinked) prelink_unchanged(plan, sources, target, features);
  rsync.target = target;
  rsync.link_dests = link_dests_of(plan, rsync.prelinked);
  const auto argv = build_rsync_argv(rsync);
  std::string shown;
  for (const auto& a : argv) shown += (shown.empty() ? "" : " ") + a;
  spdlog::debug("running: {}", shown);

  const RsyncResult result = run_rsync(argv, rsync.progress);
  const RsyncOutcome outcome = classify_rsync_exit(result.exit_code);
  if (outcome == RsyncOutcome::failed) {
    journal.document().section(kActiveSection).set("status", kStatusFailed);
    journal.document().section(kActiveSection).set("rsync_exit", std::to_string(result.exit_code));
    journal.save();
    throw Failure("rsync failed with exit status " + std::to_string(result.exit_code) + "; snapshot " +
                  target.string() + " is left partial and the next run will reuse it");
  }
  spdlog::debug("rsync finished with exit status {}", result.exit_code);
  const SharingStats sharing = share_changed_blocks(plan, target, options.reflink, features.reflink);
  sync_filesystem(target);
  spdlog::debug("snapshot data is on disk");
  write_complete(journal, name, sources, series_dir, plan, result, sharing);
  for (const Snapshot* p : plan.reuse) remove_tree(p->path);

  if (outcome == RsyncOutcome::complete_vanished)
    spdlog::warn("some files vanished while they were copied (rsync exit 24); the snapshot is complete");
  spdlog::info("snapshot {} complete: {} files, {} bytes transferred", name, result.files, result.bytes);
  if (outcome == RsyncOutcome::complete_unreadable) {
    spdlog::error("some files could not be read (rsync exit 23); snapshot {} is kept without them", name);
    return kExitUnreadable;
  }
  return kExitOk;
}

}  // namespace bkp
