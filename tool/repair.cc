#include "repair.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <stdio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "atomic_file.h"
#include "cli.h"
#include "errors.h"
#include "ini.h"
#include "journal.h"
#include "lock.h"
#include "logging.h"
#include "store.h"
#include "timestamp.h"
#include "unique_fd.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct RepairOptions {
  std::string destination;
  bool dry_run = false;
  LogOptions log;
};

// Why a folder had to be vouched for without proof, for its `repaired` key.
std::string reason_for(const Snapshot& snap, const Series& series) {
  if (!series.has_journal) return "the series had no journal";
  const auto status = snap.journal.find("status");
  if (status != snap.journal.end()) return "its status was '" + status->second + "'";
  return series.problems.empty() ? "the journal had no section for it" : "the journal was damaged";
}

// Returns how many folders were vouched for.
int repair_series(const Series& series, bool dry_run) {
  const auto unknowns = series.unknowns();
  if (series.problems.empty() && unknowns.empty()) return 0;
  for (const std::string& p : series.problems) std::printf("found: %s\n", p.c_str());
  for (const Snapshot* snap : unknowns)
    std::printf("%s %s: recorded as complete, not verified (%s)\n", dry_run ? "would mark" : "marked",
                snap->path.string().c_str(), reason_for(*snap, series).c_str());
  if (dry_run) return static_cast<int>(unknowns.size());

  UniqueFd fd(::open(series.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Failure(series.path.string() + ": cannot open it: " + std::strerror(errno));
  // Keep the damaged file as it was, beside the new one, for whoever wants to look.
  if (auto damaged = [&]() -> std::optional<std::string> {
        try {
          return IniDocument::read_text(fd.get(), kJournalFile);
        } catch (const std::system_error&) {
          return std::nullopt;  // unreadable or a symlink: replaced, the symlink itself kept out
        }
      }();
      damaged && !series.problems.empty()) {
    const std::string copy = std::string(kJournalFile) + ".damaged-" + format_timestamp(std::time(nullptr));
    write_new_file(fd.get(), copy, *damaged);
    std::printf("kept the damaged journal as %s\n", (series.path / copy).string().c_str());
  }
  Journal journal;
  try {
    journal = Journal::open(UniqueFd(::dup(fd.get())), series.path);
  } catch (const std::system_error&) {
    // cfg.ini is a symlink, a directory, a FIFO or unreadable: it is put aside as it is
    // (never followed or read) and a journal of our own starts in its place.
    const std::string aside = std::string(kJournalFile) + ".damaged-" + format_timestamp(std::time(nullptr));
    if (::renameat2(fd.get(), kJournalFile, fd.get(), aside.c_str(), RENAME_NOREPLACE) != 0)
      throw Failure((series.path / kJournalFile).string() + ": cannot move it aside: " + std::strerror(errno));
    std::printf("moved %s aside as %s\n", (series.path / kJournalFile).string().c_str(), aside.c_str());
    journal = Journal::open(UniqueFd(::dup(fd.get())), series.path);
  }
  for (const Snapshot* snap : unknowns) journal.vouch_unverified(snap->name, reason_for(*snap, series));
  journal.save();
  return static_cast<int>(unknowns.size());
}

int run_repair(const RepairOptions& options) {
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Failure("destination " + options.destination + ": not a directory");
  std::optional<DestinationLock> lock;
  if (!options.dry_run) lock.emplace(root);
  const Destination dest = Destination::scan(root);
  int repaired = 0;
  for (const Series& series : dest.series) repaired += repair_series(series, options.dry_run);
  if (repaired == 0 && std::none_of(dest.series.begin(), dest.series.end(),
                                    [](const Series& s) { return !s.problems.empty(); }))
    std::printf("nothing to repair in %s\n", root.string().c_str());
  return kExitOk;
}

}  // namespace

int repair_command(int argc, const char* const argv[]) {
  RepairOptions opt;
  po::options_description desc("bkp repair options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("dry-run,n", po::bool_switch(&opt.dry_run), "say what would be repaired; change nothing");
  add_log_options(desc, opt.log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp repair -d DEST [--dry-run]\n"
                          "Rebuilds journals bkp refuses to build on: a damaged or missing cfg.ini, or snapshot\n"
                          "folders it does not account for. Such folders are recorded as complete but not\n"
                          "verified (verified = false): bkp cannot vouch for them. The damaged journal is kept\n"
                          "as cfg.ini.damaged-<time>. Nothing is deleted or moved.\n"))
    return kExitOk;
  parse_args(argc, argv, desc);
  setup_logging(opt.log);
  return run_repair(opt);
}

}  // namespace bkp
