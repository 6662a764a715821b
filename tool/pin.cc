#include "pin.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

#include "cli.h"
#include "errors.h"
#include "journal.h"
#include "lock.h"
#include "logging.h"
#include "store.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct PinOptions {
  std::string destination;
  std::string snapshot;
  LogOptions log;
};

int set_pin(const PinOptions& options, bool pinned) {
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Failure("destination " + options.destination + ": not a directory");
  auto find = [&](const Destination& dest) {
    const Snapshot* snap = dest.find_snapshot(options.snapshot);
    if (snap == nullptr || !snap->complete)
      throw UsageError("snapshot " + options.snapshot + ": no complete snapshot of that name in " + root.string());
    return snap;
  };
  find(Destination::scan(root));  // refused before the lock file is touched
  DestinationLock lock(root);
  const Destination dest = Destination::scan(root);
  const Snapshot* snap = find(dest);
  Journal journal = Journal::open_to_update(root / snap->series);
  journal.set_pinned(snap->name, pinned);
  journal.save();
  spdlog::info("snapshot {} {}", snap->name, pinned ? "pinned: prune keeps it" : "unpinned");
  return kExitOk;
}

int pin_main(int argc, const char* const argv[], bool pinned) {
  PinOptions opt;
  po::options_description desc(pinned ? "bkp pin options" : "bkp unpin options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST");
  add_log_options(desc, opt.log);
  const std::string usage = pinned ? "Usage: bkp pin -d DEST SNAPSHOT\n"
                                     "Pins a complete snapshot (pinned = true in its journal section): prune never removes it.\n"
                                   : "Usage: bkp unpin -d DEST SNAPSHOT\nUnpins a snapshot: prune's rules apply to it again.\n";
  if (print_help_if_asked(argc, argv, desc, usage)) return kExitOk;
  std::vector<std::string> operands;
  parse_args_with_operands(argc, argv, desc, operands);
  if (operands.size() != 1)
    throw UsageError(std::string(pinned ? "pin" : "unpin") + ": name one snapshot; see bkp " + (pinned ? "pin" : "unpin") + " --help");
  opt.snapshot = operands.front();
  setup_logging(opt.log);
  return set_pin(opt, pinned);
}

}  // namespace

int pin_command(int argc, const char* const argv[]) { return pin_main(argc, argv, true); }
int unpin_command(int argc, const char* const argv[]) { return pin_main(argc, argv, false); }

}  // namespace bkp
