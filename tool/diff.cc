#include "diff.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"
#include "errors.h"
#include "logging.h"
#include "store.h"
#include "tree_diff.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct DiffCommandOptions {
  std::string destination;
  std::vector<std::string> snapshots;  // none, A, or A B
  bool json = false;
  LogOptions log;
};

// The pair to compare: A B as given; A alone against the newest; none: the one before the
// newest against the newest.
std::pair<const Snapshot*, const Snapshot*> pick(const Destination& dest, const std::vector<std::string>& names) {
  const auto complete = dest.complete_snapshots();
  auto named = [&](const std::string& name) {
    const Snapshot* s = dest.find_snapshot(name);
    if (s == nullptr || !s->complete) throw UsageError("snapshot " + name + ": no complete snapshot of that name in " + dest.root.string());
    return s;
  };
  if (names.size() > 2) throw UsageError("diff takes at most two snapshots (A and B); see bkp diff --help");
  if (names.size() == 2) return {named(names[0]), named(names[1])};
  if (complete.empty()) throw Failure("destination " + dest.root.string() + ": holds no complete snapshot");
  if (names.size() == 1) return {named(names[0]), complete.back()};
  if (complete.size() < 2) throw Failure("destination " + dest.root.string() + ": holds only one complete snapshot; name two to compare");
  return {complete[complete.size() - 2], complete.back()};
}

int run_diff(const DiffCommandOptions& options) {
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Failure("destination " + options.destination + ": not a directory");
  const Destination dest = Destination::scan(root);
  const auto [a, b] = pick(dest, options.snapshots);
  const auto changes = diff_trees(a->path, b->path);
  if (options.json) {
    nlohmann::json out = {{"from", a->name}, {"to", b->name}, {"changes", nlohmann::json::array()}};
    for (const TreeChange& c : changes)
      out["changes"].push_back({{"kind", std::string(1, static_cast<char>(c.kind))}, {"path", c.path}, {"directory", c.directory}});
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  for (const TreeChange& c : changes) std::puts(format_change(c).c_str());
  return kExitOk;
}

}  // namespace

int diff_command(int argc, const char* const argv[]) {
  DiffCommandOptions opt;
  po::options_description desc("bkp diff options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("json", po::bool_switch(&opt.json), "print JSON instead of lines");
  add_log_options(desc, opt.log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp diff -d DEST [A [B]] [--json]\n"
                          "Every path that differs between snapshots A and B, one per line, sorted, relative to\n"
                          "the snapshot: + added, - removed, M content (size or mtime), U metadata only (mode,\n"
                          "owner, xattrs), T type. A directory is listed only when added or removed (+ dir/).\n"
                          "Default: the snapshot before the newest, and the newest; A alone: A and the newest.\n"))
    return kExitOk;
  parse_args_with_operands(argc, argv, desc, opt.snapshots);
  setup_logging(opt.log);
  return run_diff(opt);
}

}  // namespace bkp
