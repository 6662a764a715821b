// bkp: snapshot backups with rsync. See bkp(1).
//
//   bkp -s SRC... -d DEST [-i] ...     the backup run (the seed's command line)
//   bkp COMMAND ...                    one of kCommands, each in its own file
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "backup.h"
#include "diff.h"
#include "errors.h"
#include "list.h"
#include "lock.h"
#include "logging.h"
#include "pin.h"
#include "prune.h"
#include "repair.h"
#include "status.h"
#include "run_jobs.h"
#include "timestamp.h"
#include "verify.h"

namespace bkp {
namespace {

constexpr Command kCommands[] = {
    {"list", "series, snapshots, status and the space each one adds", list_command},
    {"diff", "what changed between two snapshots (+ - M U T lines)", diff_command},
    {"prune", "remove the snapshots that the keep rules do not keep", prune_command},
    {"pin", "keep a snapshot whatever prune's rules say", pin_command},
    {"unpin", "let prune's rules apply to a pinned snapshot again", unpin_command},
    {"repair", "rebuild a damaged or missing journal from the folders that are there", repair_command},
    {"status", "health check for monitoring: newest snapshot, its age, the last run", status_command},
    {"run", "run the backup jobs DIR/NAME.conf (default /etc/bkp/jobs), a few at once", run_command},
    {"verify", "read snapshots and compare them with their checksum records", verify_command},
};

void print_top_help() {
  BackupOptions unused;
  std::ostringstream out;
  out << "Usage: bkp -s SRC [SRC...] -d DEST [-i] [options]\n"
         "       bkp COMMAND [options]        (bkp COMMAND --help for its options)\n"
         "       bkp --help | --version\n\n"
         "Takes a snapshot of each SRC into DEST/0/<timestamp>/<basename of SRC>/ with rsync.\n"
         "A full run starts a new series; -i adds a snapshot whose unchanged files are hard\n"
         "links to the previous one. See bkp(1).\n\n"
         "Commands:\n";
  for (const Command& c : kCommands) {
    std::string name = c.name;
    name.resize(std::max<size_t>(name.size() + 2, 10), ' ');
    out << "  " << name << c.summary << "\n";
  }
  out << "\n" << backup_option_table(unused);
  std::fputs(out.str().c_str(), stdout);
}

int dispatch(int argc, const char* const argv[]) {
  if (argc >= 2 && argv[1][0] != '-') {
    for (const Command& c : kCommands)
      if (std::strcmp(argv[1], c.name) == 0) return c.main(argc - 1, argv + 1);
    throw UsageError(std::string("unknown command '") + argv[1] + "'; see bkp --help");
  }
  if (argc < 2) throw UsageError("missing --sources and --destination; see bkp --help");
  const std::string first = argv[1];
  if (first == "--version" || first == "-V") {
    std::printf("bkp %s\n", BKP_VERSION);
    return kExitOk;
  }
  if (first == "--help" || first == "-h") {
    print_top_help();
    return kExitOk;
  }
  return backup_command(argc, argv);
}

}  // namespace
}  // namespace bkp

int main(int argc, char* argv[]) {
  using namespace bkp;
  init_local_time();
  setup_logging(LogOptions{});  // until the command has read its own -v/-q/--log-file
  try {
    return dispatch(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bkp: error: %s\n", e.what());
    return kExitUsage;
  } catch (const Failure& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {  // LockBusy, std::system_error and the like
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}
