#include "options.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

#include "errors.h"

namespace po = boost::program_options;

namespace bkp {
namespace {

constexpr const char* kBackupUsage =
    "Usage: bkp -s SRC [SRC...] -d DEST [-i] [options]\n"
    "       bkp list -d DEST [--json]\n"
    "       bkp --help | --version\n\n"
    "Takes a snapshot of each SRC into DEST/0/<timestamp>/<basename of SRC>/ with rsync.\n"
    "A full run starts a new series; -i adds a snapshot whose unchanged files are hard\n"
    "links to the previous one. See bkp(1).\n";

void add_log_options(po::options_description& desc, LogOptions& log) {
  desc.add_options()
      ("verbose,v", po::bool_switch()->notifier([&](bool on) { if (on) log.verbosity = 1; }),
       "log more: the rsync command line and its statistics")
      ("quiet,q", po::bool_switch()->notifier([&](bool on) { if (on) log.verbosity = -1; }),
       "log only warnings and errors")
      ("log-file", po::value<std::string>()->notifier([&](const std::string& f) { log.log_file = f; }),
       "also append the log to FILE");
}

po::variables_map parse(int argc, const char* const argv[], const po::options_description& desc,
                        const po::positional_options_description& positional, bool with_config) {
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
  if (with_config && vm.count("config")) {
    const std::string file = vm["config"].as<std::string>();
    std::ifstream in(file);
    if (!in) throw UsageError("--config " + file + ": cannot read the file");
    po::store(po::parse_config_file(in, desc), vm);  // the command line wins: it was stored first
  }
  po::notify(vm);
  return vm;
}

std::string describe(const po::options_description& desc, const char* usage) {
  std::ostringstream out;
  out << usage << "\n" << desc;
  return out.str();
}

CommandLine parse_list(int argc, const char* const argv[]) {
  CommandLine cl;
  cl.command = CommandLine::Command::list;
  auto& opt = cl.list;
  po::options_description desc("bkp list options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("json", po::bool_switch(&opt.json), "print JSON instead of a table")
      ("no-sizes", "skip the disk usage walk (faster on large destinations)");
  add_log_options(desc, opt.log);
  const auto vm = [&] {
    po::variables_map pre;
    po::store(po::command_line_parser(argc, argv).options(desc).allow_unregistered().run(), pre);
    if (pre.count("help")) return pre;
    return parse(argc, argv, desc, {}, false);
  }();
  if (vm.count("help")) {
    cl.command = CommandLine::Command::help;
    cl.help_text = describe(desc, "Usage: bkp list -d DEST [--json] [--no-sizes]\n"
                                  "Lists series and snapshots with their status and sizes.\n");
  }
  opt.sizes = vm.count("no-sizes") == 0;
  return cl;
}

CommandLine parse_backup(int argc, const char* const argv[]) {
  CommandLine cl;
  auto& opt = cl.backup;
  po::options_description desc("Options");
  desc.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("sources,s", po::value(&opt.sources)->multitoken(), "source directories to back up")
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
      ("no-reflink", "do not share unchanged blocks of changed files (XFS, btrfs)")
      ("share-blocks-with-previous", po::bool_switch(&opt.share_blocks_full),
       "full run: share identical blocks with the previous series (reflink filesystems)")
      ("config", po::value<std::string>(), "read options from FILE (name = value lines)");
  add_log_options(desc, opt.log);
  po::positional_options_description none;
  const auto vm = parse(argc, argv, desc, none, true);
  if (vm.count("help")) {
    cl.command = CommandLine::Command::help;
    cl.help_text = describe(desc, kBackupUsage);
    return cl;
  }
  opt.reflink = vm.count("no-reflink") == 0;
  if (vm.count("version")) {
    cl.command = CommandLine::Command::version;
    return cl;
  }
  if (opt.sources.empty()) throw UsageError("missing --sources (-s SRC...); see bkp --help");
  if (opt.destination.empty()) throw UsageError("missing --destination (-d DEST); see bkp --help");
  return cl;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  try {
    if (argc >= 2 && std::string(argv[1]) == "list") return parse_list(argc - 1, argv + 1);
    if (argc >= 2 && std::string(argv[1]) == "prune")
      throw UsageError("prune: not available in this version; see bkp(1)");
    if (argc < 2) throw UsageError("missing --sources and --destination; see bkp --help");
    return parse_backup(argc, argv);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "; see bkp --help");
  }
}

}  // namespace bkp
