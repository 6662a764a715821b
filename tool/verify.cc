#include "verify.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "journal.h"
#include "verification.h"
#include "cli.h"
#include "human_units.h"
#include "errors.h"
#include "lock.h"
#include "logging.h"
#include "store.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct VerifyCommandOptions {
  std::string destination;
  std::vector<std::string> snapshots;
  std::string subset = "100%";
  bool record = false;
  bool json = false;
  LogOptions log;
};

constexpr const char* kUsage =
    "Usage: bkp verify -d DEST [SNAPSHOT...] [--subset K/N | --subset P%] [--record] [--json]\n"
    "Reads the files of the snapshots (all complete ones by default) and compares them with\n"
    "the checksums their runs recorded, each file once however many snapshots hold it.\n"
    "Reports damaged, missing and unreadable files with every snapshot that holds them, and\n"
    "an undamaged copy in another snapshot or series where there is one. Never changes a\n"
    "snapshot. Exit 0 clean, 1 damage found, 2 usage. See VERIFY in bkp(1).\n";


const char* problem_name(Problem p) {
  return p == Problem::damaged ? "damaged" : p == Problem::missing ? "missing" : "unreadable";
}

std::vector<const Snapshot*> chosen_snapshots(const Destination& dest, const std::vector<std::string>& names) {
  if (names.empty()) return dest.complete_snapshots();
  std::vector<const Snapshot*> out;
  std::string unknown, incomplete;
  for (const std::string& name : names) {
    const Snapshot* s = dest.find_snapshot(name);
    if (s == nullptr) unknown += (unknown.empty() ? "" : ", ") + name;
    else if (!s->complete) incomplete += (incomplete.empty() ? "" : ", ") + name;
    else if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  if (!unknown.empty()) throw UsageError("no snapshot named " + unknown + " in " + dest.root.string() + "; see bkp list");
  if (!incomplete.empty()) throw UsageError("not a complete snapshot: " + incomplete + "; see bkp list");
  return out;
}

// One line on stderr, rewritten in place, only on a terminal.
void show_progress(const VerifyProgress& p, std::chrono::steady_clock::time_point started, bool done) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double rate = seconds > 0 ? static_cast<double>(p.bytes_done) / seconds : 0;
  std::fprintf(stderr, "\rbkp verify: %llu/%llu files, %s read, %s/s   %s",
               static_cast<unsigned long long>(p.files_done), static_cast<unsigned long long>(p.files_total),
               human_bytes(p.bytes_done).c_str(), human_bytes(static_cast<uint64_t>(rate)).c_str(), done ? "\n" : "");
  std::fflush(stderr);
}

nlohmann::json holder_json(const Holder& h) {
  return {{"series", h.snapshot->series}, {"snapshot", h.snapshot->name}, {"path", h.path}};
}

nlohmann::json report_json(const Destination& dest, const VerifyReport& r, const Subset& subset, double seconds, int exit_code) {
  nlohmann::json j = {{"destination", dest.root.string()}, {"subset", subset.describe()}, {"files", r.inodes},
                      {"files_read", r.files_read},        {"bytes_read", r.bytes_read}, {"unrecorded", r.unrecorded},
                      {"seconds", seconds},                {"exit_code", exit_code},
                      {"status", exit_code == kExitOk ? "clean" : "damaged"}};
  j["snapshots"] = nlohmann::json::array();
  j["without_record"] = nlohmann::json::array();
  for (const SnapshotCheck& c : r.snapshots) {
    j["snapshots"].push_back({{"series", c.snapshot->series}, {"snapshot", c.snapshot->name},
                              {"record", c.had_record || c.recorded}, {"recorded_now", c.recorded},
                              {"recorded_without_xattrs", c.recorded && c.seen_without_xattrs}});
    if (!c.had_record && !c.recorded)
      j["without_record"].push_back({{"series", c.snapshot->series}, {"snapshot", c.snapshot->name}, {"reason", c.problem}});
  }
  for (const char* kind : {"damaged", "unreadable", "missing"}) j[kind] = nlohmann::json::array();
  for (const Finding& f : r.findings) {
    nlohmann::json one = {{"path", f.holders.front().path}, {"snapshots", nlohmann::json::array()}};
    for (const Holder& h : f.holders) one["snapshots"].push_back(holder_json(h));
    if (f.expected) one["expected"] = f.expected->hex();
    if (f.actual) one["actual"] = f.actual->hex();
    if (f.error != 0) one["error"] = std::strerror(f.error);
    if (f.undamaged_copy) one["undamaged_copy"] = (dest.root / *f.undamaged_copy).string();
    j[problem_name(f.problem)].push_back(std::move(one));
  }
  j["record_problems"] = r.record_problems;
  return j;
}

void print_text(const Destination& dest, const VerifyReport& r, const Subset& subset, double seconds, bool quiet) {
  size_t without = 0;  // a destination of the original bkp.py may have thousands: the first few are named
  for (const SnapshotCheck& c : r.snapshots) {
    if (c.recorded)
      std::printf("recorded: %s/%s: checksums written from what is on disk now%s\n", c.snapshot->series.c_str(),
                  c.snapshot->name.c_str(), c.seen_without_xattrs ? "; it holds no extended attributes (xattrs = false)" : "");
    else if (!c.had_record && ++without <= 10)
      std::printf("no record: %s/%s: %s; only files it shares with recorded snapshots were checked"
                  " (bkp verify --record writes one from what is on disk now)\n",
                  c.snapshot->series.c_str(), c.snapshot->name.c_str(), c.problem.c_str());
  }
  if (without > 10) std::printf("no record: %zu more snapshots (see --json)\n", without - 10);
  for (const std::string& p : r.record_problems) std::printf("record problem: %s\n", p.c_str());
  for (const Finding& f : r.findings) {
    std::string what;
    if (f.problem == Problem::damaged) what = "holds " + f.actual->hex() + " where its record says " + f.expected->hex();
    else if (f.problem == Problem::missing) what = "recorded, not on disk";
    else what = std::strerror(f.error);
    std::printf("%s: %s: %s; in %zu snapshot%s:\n", problem_name(f.problem), f.holders.front().path.c_str(),
                what.c_str(), f.holders.size(), f.holders.size() == 1 ? "" : "s");
    for (const Holder& h : f.holders) std::printf("    %s\n", h.relative().c_str());
    if (f.undamaged_copy)
      std::printf("  undamaged copy (same checksum, another inode): %s\n", (dest.root / *f.undamaged_copy).c_str());
    else if (f.expected)
      std::printf("  no undamaged copy with the same checksum in any other snapshot\n");
  }
  if (quiet && r.findings.empty() && r.record_problems.empty()) return;  // for cron: silence when intact
  size_t counts[3] = {0, 0, 0};
  for (const Finding& f : r.findings) ++counts[static_cast<int>(f.problem)];
  std::printf("verified %zu snapshot%s (%s): read %llu of %llu files, %s in %.1f s: %zu damaged, %zu unreadable, %zu missing\n",
              r.snapshots.size(), r.snapshots.size() == 1 ? "" : "s", subset.all() ? "every file" : ("subset " + subset.describe()).c_str(),
              static_cast<unsigned long long>(r.files_read), static_cast<unsigned long long>(r.inodes),
              human_bytes(r.bytes_read).c_str(), seconds, counts[0], counts[2], counts[1]);
  if (r.unrecorded > 0)
    std::printf("note: %llu files are on disk but not in their snapshot's record (unreadable when it was made)\n",
                static_cast<unsigned long long>(r.unrecorded));
}

// --record: older snapshots seen to hold no xattrs get xattrs = false in their journal
// section, as the runs that make snapshots now record it (bkpfs's fast `ls -l`).
void record_snapshots_without_xattrs(const fs::path& root, const VerifyReport& report) {
  std::map<std::string, std::vector<std::string>> by_series;
  for (const SnapshotCheck& c : report.snapshots)
    if (c.recorded && c.seen_without_xattrs) by_series[c.snapshot->series].push_back(c.snapshot->name);
  for (const auto& [folder, names] : by_series) {
    Journal journal = Journal::open_to_update(root / folder);
    for (const std::string& name : names) journal.record_without_xattrs(name);
    journal.save();
  }
}

int run_verify(const VerifyCommandOptions& options) {
  const Subset subset = Subset::parse(options.subset);
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Failure("destination " + options.destination + ": not a directory");
  if (!Destination::looks_like_destination(root))
    throw Failure("destination " + options.destination + ": holds no bkp series (no 0/cfg.ini)");
  std::optional<DestinationLock> lock;  // --record writes into DEST; reading alone takes no lock
  if (options.record) lock.emplace(root);
  const Destination dest = Destination::scan(root);
  const auto snapshots = chosen_snapshots(dest, options.snapshots);

  const auto started = std::chrono::steady_clock::now();
  VerifyOptions verify{.subset = subset, .record = options.record};
  const bool progress = !options.json && options.log.verbosity >= 0 && ::isatty(STDERR_FILENO);
  if (progress)
    verify.progress = [&](const VerifyProgress& p) { show_progress(p, started, p.files_done == p.files_total); };
  const VerifyReport report = verify_snapshots(dest, snapshots, verify);
  if (options.record) record_snapshots_without_xattrs(root, report);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  bool lost_record = false;
  for (const SnapshotCheck& c : report.snapshots)
    lost_record = lost_record || (!c.had_record && !c.recorded && c.snapshot->journal.count("checksum_record"));
  const int exit_code = report.damage_found() || lost_record ? kExitFailure : kExitOk;
  if (options.json)
    std::puts(report_json(dest, report, subset, seconds, exit_code).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    print_text(dest, report, subset, seconds, options.log.verbosity < 0);
  return exit_code;
}

}  // namespace

int verify_command(int argc, const char* const argv[]) {
  VerifyCommandOptions opt;
  po::options_description desc("bkp verify options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("subset", po::value(&opt.subset)->value_name("K/N|P%"),
       "read only part of the files: K/N (N runs with K = 1..N read everything once) or a random P%")
      ("record", po::bool_switch(&opt.record),
       "write checksum records for snapshots that have none, from what is on disk now (trusts it)")
      ("json", po::bool_switch(&opt.json), "print the report as JSON")
      ("snapshot", po::value(&opt.snapshots)->multitoken(), "a snapshot to check (default: every complete one)");
  add_log_options(desc, opt.log);
  po::positional_options_description positional;
  positional.add("snapshot", -1);
  if (print_help_if_asked(argc, argv, desc, kUsage)) return kExitOk;
  parse_args(argc, argv, desc, positional);
  setup_logging(opt.log);
  return run_verify(opt);
}

}  // namespace bkp
