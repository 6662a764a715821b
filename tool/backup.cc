#include "backup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <optional>

#include "block_sharing.h"
#include "copy_plain_files.h"
#include "errors.h"
#include "hooks.h"
#include "human_units.h"
#include "journal.h"
#include "link_unchanged.h"
#include "lock.h"
#include "logging.h"
#include "metrics.h"
#include "preflight.h"
#include "prune.h"
#include "remote_preflight.h"
#include "record_checksums.h"
#include "rsync_command.h"
#include "rsync_runner.h"
#include "run_plan.h"
#include "snapshot_removal.h"
#include "source_traits.h"
#include "store.h"
#include "timestamp.h"
#include "transfers.h"
#include "unique_fd.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string snapshot_name_for(const Destination& dest, std::time_t start) {
  std::string name = format_timestamp(start);
  while (dest.name_taken(name)) name = format_timestamp(++start);  // never merge into a snapshot
  return name;
}

void sync_filesystem(int dir_fd) {
  // The journal may call a snapshot complete only once its data is on disk.
  ::syncfs(dir_fd);
}

// As the journal records them: local sources as absolute paths, remote ones as given.
std::vector<std::string> journal_sources(const std::vector<SourceSpec>& sources) {
  std::vector<std::string> out;
  for (const auto& s : sources) out.push_back(s.remote() ? s.given : s.path);
  return out;
}

std::vector<fs::path> local_paths(const std::vector<SourceSpec>& sources) {
  std::vector<fs::path> out;
  for (const auto& s : sources)
    if (!s.remote()) out.emplace_back(s.path);
  return out;
}

// A run writes only into what the journal vouches for: a series whose journal is damaged
// or missing, or that holds folders the journal does not account for, is refused until
// `bkp repair` (or the user) has dealt with it.
void refuse_untrusted(const Destination& dest, bool warn_about_older = true) {
  for (const Series& series : dest.series) {
    const auto faults = series.faults();
    if (faults.empty()) continue;
    if (!series.is_current()) {  // never written by this run: only said
      if (warn_about_older)
        for (const std::string& f : faults) spdlog::warn("{} (left alone; see bkp repair)", f);
      continue;
    }
    const std::string more = faults.size() > 1 ? " (and " + std::to_string(faults.size() - 1) + " more)" : "";
    throw Failure(faults.front() + more + "; nothing was changed: see bkp repair");
  }
}

// DEST/0 and every series folder must be real directories: a symlink there would send
// snapshots and the journal outside DEST.
UniqueFd open_series(int dest_fd, const fs::path& dest_root, const std::string& folder, bool create) {
  struct stat st {};
  if (::fstatat(dest_fd, folder.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw Failure((dest_root / folder).string() + ": " + (S_ISLNK(st.st_mode) ? "is a symlink" : "is not a directory") +
                    "; bkp writes snapshots only into real directories inside DEST");
  } else if (errno != ENOENT || !create) {
    throw Failure((dest_root / folder).string() + ": " + std::strerror(errno));
  } else if (::mkdirat(dest_fd, folder.c_str(), 0755) != 0) {
    throw Failure((dest_root / folder).string() + ": cannot create it: " + std::strerror(errno));
  }
  UniqueFd fd(::openat(dest_fd, folder.c_str(), kDirFlags));
  if (!fd) throw Failure((dest_root / folder).string() + ": cannot open it: " + std::strerror(errno));
  return fd;
}

// Before anything is changed: a series folder that is not a real directory (scans skip
// such entries) is refused.
void refuse_symlinked_series(int dest_fd, const fs::path& dest_root) {
  struct stat st {};
  if (::fstatat(dest_fd, kCurrentSeries, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
    open_series(dest_fd, dest_root, kCurrentSeries, false);  // throws the refusal
}

void describe_plan(const RunPlan& plan, const std::string& name, const fs::path& dest) {
  if (plan.rotate_to) spdlog::info("full run: {} becomes the older series {}", (dest / "0").string(), *plan.rotate_to);
  for (const FolderRef& p : plan.remove_partials)
    spdlog::info("removing partial snapshot {}", (dest / p.series / p.name).string());
  if (plan.hide_for_reuse) spdlog::info("reusing files of partial snapshot {}", (dest / "0" / *plan.hide_for_reuse).string());
  spdlog::info("{} snapshot {}{}", plan.incremental ? "incremental" : "full", (dest / kCurrentSeries / name).string(),
               plan.base ? " (unchanged files linked to " + plan.base->name + ")" : std::string());
}

// Carries out the clean-up a plan asks for before the run: interrupted removals finished,
// partial snapshots of earlier runs deleted or put aside for reuse.
void clean_up_before_run(const RunPlan& plan, int dest_fd, const fs::path& dest_root) {
  auto series_fd = [&](const std::string& folder) { return open_series(dest_fd, dest_root, folder, false); };
  finish_removals(dest_fd);  // whole series a killed prune was removing
  for (const FolderRef& hidden : plan.remove_hidden) delete_hidden_folder(series_fd(hidden.series).get(), hidden.name);
  for (const FolderRef& partial : plan.remove_partials) {
    UniqueFd fd = series_fd(partial.series);
    Journal journal = Journal::open(UniqueFd(::dup(fd.get())), dest_root / partial.series);
    remove_snapshot_folder(fd.get(), partial.name, [&] {
      journal.drop_active();
      journal.save();
    });
  }
  if (plan.hide_for_reuse) hide_reusable_partial(series_fd(kCurrentSeries).get(), *plan.hide_for_reuse);
}

// Unchanged files are linked to the previous snapshot by bkp itself (link_unchanged.h),
// never by rsync; files an interrupted run had already copied are taken from its partial
// snapshot with --link-dest.
std::vector<fs::path> link_dests_of(const RunPlan& plan, const fs::path& series_dir) {
  std::vector<fs::path> dirs;
  for (const std::string& hidden : plan.reuse) dirs.push_back(series_dir / hidden);
  return dirs;
}

// Links the unchanged files of every source into the new snapshot before rsync runs.
void prelink_unchanged(const RunPlan& plan, const std::vector<fs::path>& sources, const fs::path& target,
                       const DestinationFeatures& features, bool checksum) {
  LinkStats total;
  for (const auto& src : sources) {
    const auto name = src.filename();
    const LinkStats one = link_unchanged(src, plan.base->path / name, target / name,
                                         LinkPolicy{.compare_xattrs = features.acls || features.xattrs,
                                                    .compare_content = checksum});
    total.linked += one.linked;
    total.directories += one.directories;
  }
  spdlog::debug("linked {} unchanged files in {} directories to {}", total.linked, total.directories, plan.base->name);
}

// A full run copies the plain files of the local sources itself (copy_plain_files.h) and
// rsync fills in the rest with --ignore-existing; not when rsync's filter rules decide what
// is excluded, nor when files of an interrupted run are reused (--link-dest). Remote
// sources (host:path) are rsync's alone.
PlainCopyStats precopy_plain_files(const std::vector<fs::path>& local_sources, const RsyncPlan& rsync) {
  PlainCopyStats total;
  if (!rsync.excludes.empty() || !rsync.exclude_from.empty() || !rsync.link_dests.empty()) return total;
  for (const auto& src : local_sources) {
    if (!src.is_absolute()) continue;
    const PlainCopyStats one = copy_plain_files(src, rsync.target / src.filename(),
                                                {.skip_xattrs = rsync.xattrs || rsync.acls, .sparse = rsync.sparse});
    total.files += one.files;
    total.bytes += one.bytes;
    total.directories += one.directories;
  }
  spdlog::debug("copied {} plain files ({} bytes) into {} directories before rsync", total.files, total.bytes,
                total.directories);
  return total;
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

JournalFields completion_details(const RunPlan& plan, const RsyncResult& result, const SharingStats& sharing,
                                 bool may_hold_xattrs) {
  JournalFields d = {{"kind", plan.incremental ? "incremental" : "full"}};
  if (plan.base) d.emplace_back("previous", plan.base->name);
  d.emplace_back("rsync_exit", std::to_string(result.exit_code));
  d.emplace_back("files", std::to_string(result.files));
  d.emplace_back("bytes", std::to_string(result.bytes));
  if (sharing.files > 0) d.emplace_back("shared_bytes", std::to_string(sharing.shared_bytes));
  // No source holds extended attributes or ACLs, so neither does the snapshot (bkpfs can
  // then answer xattr requests without asking the disk).
  d.emplace_back("xattrs", may_hold_xattrs ? "true" : "false");
  if (result.exit_code == 23) d.emplace_back("warning", "some files could not be read; see the log of this run");
  return d;
}

std::string deep_path_advice(uint64_t count) {
  return std::to_string(count) + " path(s) longer than rsync's limit of 4095 bytes were not backed up; "
         "back up the deep folder as a source of its own, or shorten the names (see DEEP PATHS in bkp(1))";
}

int dry_run(const BackupOptions& options, RsyncPlan rsync, const std::vector<Transfer>& transfers,
            const fs::path& dest_root) {
  // Read-only: no lock, no journal; rsync --dry-run into where the snapshot would go
  // (rsync creates nothing there) tells what would be transferred.
  const Destination dest = fs::is_directory(dest_root) ? Destination::scan(dest_root) : Destination{dest_root, {}};
  refuse_untrusted(dest);
  const RunPlan plan = plan_run(dest, {options.incremental, options.discard_partial, options.share_blocks_full});
  const std::string name = snapshot_name_for(dest, std::time(nullptr));
  describe_plan(plan, name, dest_root);
  rsync.dry_run = true;
  rsync.target = dest_root / kCurrentSeries / name;
  rsync.link_dests = link_dests_of(plan, dest_root / kCurrentSeries);
  if (plan.base) rsync.link_dests.insert(rsync.link_dests.begin(), plan.base->path);  // what prelinking would link
  for (auto& dir : rsync.link_dests)  // not hidden yet in a dry run
    if (plan.hide_for_reuse && dir.filename() == std::string(kReusablePrefix) + *plan.hide_for_reuse)
      dir = dest_root / kCurrentSeries / *plan.hide_for_reuse;
  const auto result = run_transfers(rsync, transfers, {.rsh = options.rsh}, std::nullopt).result;
  spdlog::info("dry run: would transfer {} files, {} bytes; nothing was changed", result.files, result.bytes);
  return classify_rsync_result(result) == RsyncOutcome::failed ? kExitFailure : kExitOk;
}

}  // namespace


std::string summary_line(const BackupReport& r) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f s", r.seconds);
  if (r.status != "complete") return "snapshot " + (r.snapshot.empty() ? r.destination : r.snapshot) + " " + r.status + ": " + r.message;
  return "snapshot " + r.snapshot + " complete (" + r.kind + "): " + std::to_string(r.total_files) + " entries, " +
         std::to_string(r.files) + " files (" + human_bytes(r.bytes) + ") transferred, " + human_bytes(r.space_added) +
         " of new data, " + seconds;
}

std::string summary_json(const BackupReport& r) {
  nlohmann::json j = {{"destination", r.destination}, {"snapshot", r.snapshot}, {"kind", r.kind},
                      {"status", r.status},           {"exit_code", r.exit_code}, {"message", r.message},
                      {"files", r.files},             {"bytes", r.bytes},         {"total_files", r.total_files},
                      {"space_added_bytes", r.space_added}, {"seconds", r.seconds}};
  if (!r.job.empty()) j["job"] = r.job;
  if (!r.pruned.empty()) j["pruned"] = r.pruned;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_backup(const BackupOptions& options, BackupReport& report) {
  const auto started = std::chrono::steady_clock::now();
  struct Timer {  // the duration is known however the run ends
    BackupReport& r;
    std::chrono::steady_clock::time_point t0;
    ~Timer() { r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
  } timer{report, started};
  report.job = options.log.job;
  report.destination = fs::absolute(options.destination).lexically_normal().string();
  RsyncPlan rsync;
  rsync.rsync = find_rsync();
  const std::vector<SourceSpec> specs = check_local_and_remote_sources(options, rsync.rsync);
  const std::vector<fs::path> sources = local_paths(specs);
  const std::vector<Transfer> transfers = group_transfers(specs);
  const fs::path dest_root = fs::absolute(options.destination).lexically_normal();
  rsync.numeric_ids = ::geteuid() == 0;
  rsync.checksum = options.checksum;
  rsync.excludes = options.excludes;
  rsync.exclude_from = options.exclude_from;
  rsync.progress = options.log.verbosity >= 0 && ::isatty(STDERR_FILENO);
  if (options.dry_run) {
    report.status = "dry-run";
    return report.exit_code = dry_run(options, rsync, transfers, dest_root);
  }
  // Refused before anything in DEST is touched (the lock file included); checked again
  // under the lock below.
  if (std::error_code ec; fs::is_directory(dest_root, ec)) refuse_untrusted(Destination::scan(dest_root), false);

  const DestinationFeatures features = check_destination(dest_root);
  const SourceTraits traits = scan_source_traits(sources);
  rsync.acls = features.acls && traits.xattrs;
  rsync.xattrs = features.xattrs && traits.xattrs;
  rsync.sparse = traits.sparse;
  rsync.report_checksums = rsync_has_xxh128(rsync.rsync);
  if (!features.acls || !features.xattrs)
    spdlog::warn("destination {} does not support {}; they are not preserved", dest_root.string(),
                 !features.acls && !features.xattrs ? "ACLs and extended attributes"
                 : !features.acls                   ? "ACLs"
                                                    : "extended attributes");
  DestinationLock lock(dest_root);
  const UniqueFd dest_fd(::open(dest_root.c_str(), kDirFlags & ~O_NOFOLLOW));
  if (!dest_fd) throw Failure("destination " + dest_root.string() + ": cannot open it: " + std::strerror(errno));

  const Destination dest = Destination::scan(dest_root);
  refuse_untrusted(dest);
  refuse_symlinked_series(dest_fd.get(), dest_root);
  const RunPlan plan = plan_run(dest, {options.incremental, options.discard_partial, options.share_blocks_full});
  if (options.incremental && !plan.incremental)
    spdlog::warn("no complete snapshot in {}: taking a full snapshot instead of an incremental one",
                 (dest_root / kCurrentSeries).string());
  const std::string name = snapshot_name_for(dest, std::time(nullptr));
  describe_plan(plan, name, dest_root);
  report.snapshot = name;
  report.kind = plan.incremental ? "incremental" : "full";

  report.status = "failed";  // from here on, DEST changes
  clean_up_before_run(plan, dest_fd.get(), dest_root);
  const fs::path series_dir = dest_root / kCurrentSeries;
  if (plan.rotate_to &&
      ::renameat2(dest_fd.get(), kCurrentSeries, dest_fd.get(), plan.rotate_to->c_str(), RENAME_NOREPLACE) != 0)
    throw Failure(series_dir.string() + ": cannot rename it to " + *plan.rotate_to + ": " + std::strerror(errno));
  const UniqueFd series_fd = open_series(dest_fd.get(), dest_root, kCurrentSeries, true);

  Journal journal = Journal::open(UniqueFd(::dup(series_fd.get())), series_dir);
  journal.begin(name, journal_sources(specs), series_dir.string());
  journal.save();
  const fs::path target = series_dir / name;
  if (::mkdirat(series_fd.get(), name.c_str(), 0755) != 0)
    throw Failure(target.string() + ": cannot create it: " + std::strerror(errno));

  rsync.target = target;
  rsync.link_dests = link_dests_of(plan, series_dir);
  rsync.prelinked = plan.base != nullptr;
  if (rsync.prelinked) prelink_unchanged(plan, sources, target, features, options.checksum);
  const PlainCopyStats precopied = rsync.prelinked ? PlainCopyStats{} : precopy_plain_files(sources, rsync);
  rsync.prelinked = rsync.prelinked || precopied.files > 0;
  TransferRun transfer = run_transfers(rsync, transfers, {options.rsh, features.acls, features.xattrs},
                                       plan.base ? std::optional(plan.base->path) : std::nullopt);
  RsyncResult& result = transfer.result;
  result.files += precopied.files;  // what rsync did not transfer because bkp had
  result.bytes += precopied.bytes;
  const RsyncOutcome outcome = classify_rsync_result(result);
  if (result.paths_too_long > 0) spdlog::error("{}", deep_path_advice(result.paths_too_long));
  if (outcome == RsyncOutcome::failed) {
    const std::string why = result.destination_errors > 0
                                ? "writing the snapshot failed (" + result.first_destination_error + ")"
                                : transfer.failure_reason();
    journal.fail({{"rsync_exit", std::to_string(result.exit_code)}, {"reason", why}});
    try {
      journal.save();
    } catch (const std::system_error& e) {  // a full disk may not take even that; [ACTIVE] still says partial
      spdlog::warn("{}", e.what());
    }
    throw Failure(why + "; snapshot " + target.string() + " is left partial and the next run will reuse it");
  }
  spdlog::debug("rsync finished with exit status {}", result.exit_code);
  const SharingStats sharing = share_changed_blocks(plan, target, options.reflink, features.reflink);
  const JournalFields checksums =
      record_checksums(series_fd.get(), series_dir, name, plan.base, result.written_checksums);
  sync_filesystem(series_fd.get());
  spdlog::debug("snapshot data is on disk");
  // Remote sources are copied with their xattrs and ACLs whenever DEST keeps them, unseen.
  const bool may_hold_xattrs = traits.xattrs || sources.size() != specs.size();
  JournalFields details = completion_details(plan, result, sharing, may_hold_xattrs);
  details.insert(details.end(), checksums.begin(), checksums.end());
  journal.complete(details);
  journal.save();
  report.status = "complete";
  for (const std::string& hidden : plan.reuse) delete_hidden_folder(series_fd.get(), hidden);

  report.files = result.files;
  report.bytes = result.bytes;
  report.total_files = result.total_files;
  // New data in the destination: what rsync wrote, less what block sharing gave back.
  report.space_added = result.bytes > sharing.shared_bytes ? result.bytes - sharing.shared_bytes : 0;
  if (outcome == RsyncOutcome::complete_vanished)
    spdlog::warn("some files vanished while they were copied (rsync exit 24); the snapshot is complete");
  report.exit_code = kExitOk;
  if (outcome == RsyncOutcome::complete_unreadable) {
    spdlog::error("some files could not be read (rsync exit 23); snapshot {} is kept without them", name);
    report.exit_code = kExitUnreadable;
    report.message = "some files could not be read";
  }
  return report.exit_code;
}

// The run and what wraps it: --pre-exec first, then after every outcome the error line,
// --metrics-file (while DEST is still there: a post-exec may unmount it), --post-exec,
// the summary and --json.
int backup_command(int argc, const char* const argv[]) {
  const BackupOptions options = parse_backup_options(argc, argv);
  setup_logging(options.log);
  BackupReport report;
  report.job = options.log.job;
  report.destination = fs::absolute(options.destination).lexically_normal().string();
  std::exception_ptr usage_error;  // left to main(), which prints it the usage way
  bool started = false;
  try {
    run_pre_exec(options.pre_exec, report);
    started = true;
    run_backup(options, report);
  } catch (const UsageError& e) {
    report.exit_code = e.exit_code();
    report.message = e.what();
    usage_error = std::current_exception();
  } catch (const std::exception& e) {  // Failure, LockBusy, std::system_error
    const auto* failure = dynamic_cast<const Failure*>(&e);
    report.exit_code = failure != nullptr ? failure->exit_code() : kExitFailure;
    report.message = e.what();
    spdlog::error("{}", e.what());
  }
  // Keep rules prune only after a run that succeeded completely: a snapshot that lacks
  // unreadable files (exit 3) must not cost the older ones that may still hold them.
  const RetentionRules rules = options.keep.rules();
  if (!options.dry_run && !rules.empty() && report.status == "complete") {
    if (report.exit_code != kExitOk) {
      spdlog::warn("not pruning: the run did not succeed completely");
    } else {
      try {
        report.pruned = prune_destination(report.destination, {.rules = rules});
      } catch (const std::exception& e) {
        report.exit_code = kExitFailure;
        report.message = std::string("pruning failed: ") + e.what();
        spdlog::error("{}", report.message);
      }
    }
  }
  if (!options.metrics_file.empty() && !options.dry_run) write_metrics_file(options.metrics_file, report);
  if (started) run_post_exec(options.post_exec, report);
  if (report.status == "complete") spdlog::info("{}", summary_line(report));
  if (options.json) std::puts(summary_json(report).c_str());
  if (usage_error) std::rethrow_exception(usage_error);
  return report.exit_code;
}

}  // namespace bkp
