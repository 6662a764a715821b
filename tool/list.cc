#include "list.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "cli.h"
#include "human_units.h"
#include "disk_usage.h"
#include "errors.h"
#include "logging.h"
#include "store.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct ListOptions {
  std::string destination;
  bool json = false;
  bool sizes = true;
  LogOptions log;
};


struct Row {
  const Series* series;
  const Snapshot* snapshot;
  Usage usage;
};

bool unverified(const Snapshot& s) {
  const auto it = s.journal.find("verified");
  return s.complete && it != s.journal.end() && it->second == "false";
}

const char* status_of(const Snapshot& s) {
  if (unverified(s)) return "unverified";  // recorded by bkp repair
  return s.complete ? "complete" : s.partial ? "partial" : s.failed ? "failed" : "unknown";
}

bool pinned(const Snapshot& s) {
  const auto it = s.journal.find("pinned");
  return it != s.journal.end() && it->second == "true";
}

// JSON strings must be UTF-8: a name with other bytes shows them as U+FFFD.
nlohmann::json rows_json(const fs::path& root, const std::vector<Row>& rows, bool sizes) {
  nlohmann::json out = {{"destination", root.string()}, {"snapshots", nlohmann::json::array()}};
  for (const Row& r : rows) {
    nlohmann::json s = {{"name", r.snapshot->name},         {"series", r.series->folder},
                        {"current", r.series->is_current()}, {"status", status_of(*r.snapshot)},
                        {"pinned", pinned(*r.snapshot)},     {"path", r.snapshot->path.string()}};
    if (sizes) {
      s["files"] = r.usage.files;
      s["apparent_bytes"] = r.usage.apparent;
      s["added_bytes"] = r.usage.added;
    }
    out["snapshots"].push_back(std::move(s));
  }
  return out;
}

int run_list(const ListOptions& options) {
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  std::error_code ec;
  if (!fs::exists(root, ec)) throw Failure("destination " + options.destination + ": does not exist");
  if (!fs::is_directory(root, ec)) throw Failure("destination " + options.destination + ": not a directory");
  if (!Destination::looks_like_destination(root))
    throw Failure("destination " + options.destination + ": holds no bkp series (no 0/cfg.ini)");
  const Destination dest = Destination::scan(root);

  std::vector<Row> rows;
  UsageCounter counter;
  for (const auto& series : dest.series)
    for (const auto& snap : series.snapshots)
      rows.push_back({&series, &snap, options.sizes ? counter.measure(snap.path) : Usage{}});

  if (options.json) {
    std::puts(rows_json(root, rows, options.sizes).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("%-21s %-21s %-9s %10s %10s %10s\n", "SERIES", "SNAPSHOT", "STATUS", "FILES", "SIZE", "ADDED");
  for (const auto& r : rows) {
    const std::string series = r.series->is_current() ? "0 (current)" : r.series->folder;
    const std::string status = std::string(status_of(*r.snapshot)) + (pinned(*r.snapshot) ? "*" : "");
    std::printf("%-21s %-21s %-9s %10s %10s %10s\n", series.c_str(), r.snapshot->name.c_str(), status.c_str(),
                options.sizes ? std::to_string(r.usage.files).c_str() : "-",
                options.sizes ? human_bytes(r.usage.apparent, true).c_str() : "-", options.sizes ? human_bytes(r.usage.added, true).c_str() : "-");
  }
  return kExitOk;
}

}  // namespace

int list_command(int argc, const char* const argv[]) {
  ListOptions opt;
  po::options_description desc("bkp list options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("json", po::bool_switch(&opt.json), "print JSON instead of a table")
      ("no-sizes", po::bool_switch()->notifier([&](bool off) { opt.sizes = !off; }),
       "skip the disk usage walk (faster on large destinations)");
  add_log_options(desc, opt.log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp list -d DEST [--json] [--no-sizes]\n"
                          "Lists series and snapshots with their status (complete, partial, unknown; * = pinned)\n"
                          "and the space each one adds.\n"))
    return kExitOk;
  parse_args(argc, argv, desc);
  setup_logging(opt.log);
  return run_list(opt);
}

}  // namespace bkp
