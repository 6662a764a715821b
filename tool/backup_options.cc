#include "backup_options.h"

#include "errors.h"

namespace po = boost::program_options;

namespace bkp {
namespace {

bool names_a_directory(const std::string& file) {
  return !file.empty() && (file.back() == '/' || file == "." || file == ".." || file.ends_with("/.") || file.ends_with("/.."));
}

}  // namespace

po::options_description backup_option_table(BackupOptions& opt) {
  po::options_description desc("Backup options");
  desc.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("sources,s", po::value(&opt.sources)->multitoken(),
       "source directories to back up: local, or [user@]host:/path (pulled over ssh)")
      ("destination,d", po::value(&opt.destination), "the destination DEST")
      ("incremental,i", po::bool_switch(&opt.incremental),
       "add a snapshot to the current series, hard-linking unchanged files")
      ("checksum,c", po::bool_switch(&opt.checksum), "compare files by checksum, not size and time")
      ("exclude", po::value(&opt.excludes)->composing(), "exclude files matching PATTERN (rsync syntax)")
      ("exclude-from", po::value(&opt.exclude_from)->composing(), "read exclude patterns from FILE")
      ("dry-run,n", po::bool_switch(&opt.dry_run), "show what would be done; change nothing in DEST")
      ("allow-empty", po::bool_switch(&opt.allow_empty), "accept empty source directories")
      ("discard-partial", po::bool_switch(&opt.discard_partial),
       "delete what an interrupted run left instead of reusing it")
      ("no-reflink", po::bool_switch()->notifier([&](bool off) { opt.reflink = !off; }),
       "do not share unchanged blocks of changed files (XFS, btrfs)")
      ("share-blocks-with-previous", po::bool_switch(&opt.share_blocks_full),
       "full run: share identical blocks with the previous series (reflink filesystems)")
      ("rsh", po::value(&opt.rsh)->default_value(kDefaultRsh),
       "remote sources: the ssh command line (rsync's --rsh)")
      ("json", po::bool_switch(&opt.json), "print a summary of the run as JSON on stdout")
      ("metrics-file", po::value(&opt.metrics_file), "after the run, rewrite FILE with Prometheus metrics of it")
      ("pre-exec", po::value(&opt.pre_exec), "run CMD (/bin/sh -c) first; if it fails, refuse the run")
      ("post-exec", po::value(&opt.post_exec), "run CMD after the run, whatever its outcome (BKP_STATUS, ...)")
      ("config", po::value<std::string>(), "read options from FILE (name = value lines)");
  add_keep_options(desc, opt.keep);
  add_log_options(desc, opt.log);
  return desc;
}

BackupOptions parse_backup_options(int argc, const char* const argv[]) {
  BackupOptions opt;
  po::options_description all;
  all.add(backup_option_table(opt));
  all.add_options()("job-name", po::value(&opt.log.job));  // set by `bkp run`; not in --help
  parse_args(argc, argv, all, {}, "config");
  if (opt.sources.empty()) throw UsageError("missing --sources (-s SRC...); see bkp --help");
  if (opt.destination.empty()) throw UsageError("missing --destination (-d DEST); see bkp --help");
  opt.keep.rules();  // malformed keep rules are a usage error before anything runs
  if (names_a_directory(opt.metrics_file))
    throw UsageError("--metrics-file " + opt.metrics_file + ": names a directory, not a file");
  return opt;
}

}  // namespace bkp
