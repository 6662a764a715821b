#include "prune.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "checksum_record.h"
#include "cli.h"
#include "errors.h"
#include "journal.h"
#include "keep_options.h"
#include "lock.h"
#include "logging.h"
#include "snapshot_removal.h"
#include "store.h"
#include "unique_fd.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Prune builds one timeline from every journal: a journal it cannot read could hide
// snapshots, so it refuses (folders a journal does not account for are only reported:
// prune never touches them).
void refuse_untrusted(const Destination& dest) {
  for (const Series& s : dest.series) {
    if (!s.problems.empty()) throw Failure(s.problems.front() + "; nothing was removed: see bkp repair");
    for (const Snapshot* u : s.unknowns()) spdlog::warn("{}: not accounted for by the journal; left alone", u->path.string());
  }
}

std::vector<RetentionDecision> decide(const Destination& dest, const PruneRequest& request,
                                      std::vector<const Snapshot*>& complete) {
  complete = dest.complete_snapshots();
  std::vector<RetentionSnapshot> timeline;
  for (const Snapshot* s : complete) timeline.push_back({s->name, s->time, s->pinned});
  // Snapshots named without any rule: every other one is kept.
  RetentionRules rules = request.rules;
  const bool only_named = rules.empty();
  if (only_named) rules.last = kKeepUnlimited;
  auto decisions = apply_retention(timeline, rules, std::time(nullptr));
  if (only_named)
    for (auto& d : decisions)
      for (auto& r : d.reasons)
        if (r.rule == KeepRule::last) r.text = "not named";
  if (request.remove.empty()) return decisions;
  // Named snapshots go too, but never a pinned one nor the newest (the base of the next increment).
  for (const std::string& name : request.remove) {
    auto it = std::find_if(decisions.begin(), decisions.end(), [&](const auto& d) { return d.snapshot.name == name; });
    if (it == decisions.end()) throw UsageError("snapshot " + name + ": no complete snapshot of that name in " + dest.root.string());
    if (it->snapshot.pinned) throw Failure("snapshot " + name + ": is pinned; bkp unpin it first");
    if (it == decisions.begin()) throw Failure("snapshot " + name + ": is the newest, the base of the next increment; it is kept");
    it->keep = false;
    it->reasons.clear();
  }
  return decisions;
}

void print(const fs::path& root, const std::vector<RetentionDecision>& decisions, const std::vector<const Snapshot*>& complete,
           const PruneRequest& request) {
  if (request.json) {
    nlohmann::json out = {{"destination", root.string()}, {"dry_run", request.dry_run}, {"snapshots", nlohmann::json::array()}};
    for (const auto& d : decisions) {
      nlohmann::json reasons = nlohmann::json::array();
      for (const KeepReason& r : d.reasons)
        reasons.push_back({{"rule", std::string(rule_name(r.rule))}, {"rank", r.rank}, {"oldest", r.oldest}, {"text", r.text}});
      out["snapshots"].push_back({{"name", d.snapshot.name}, {"series", complete[d.input_index]->series},
                                  {"keep", d.keep}, {"reasons", reasons}});
    }
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  for (const auto& d : decisions) {
    const std::string line = std::string(d.keep ? "keep   " : "remove ") + d.snapshot.name +
                             (d.keep ? "  " + d.reasons_text() : std::string());
    std::puts(line.c_str());
  }
  std::fflush(stdout);
}

UniqueFd open_dir(int parent_fd, const fs::path& parent, const std::string& name) {
  UniqueFd fd(::openat(parent_fd, name.c_str(), kDirFlags));
  if (!fd) throw Failure((parent / name).string() + ": cannot open it: " + std::strerror(errno));
  return fd;
}

// Removes the snapshots of one series that are not kept; a whole older series when none
// of its snapshots is kept and the journal accounts for everything in it.
void remove_from_series(int dest_fd, const Destination& dest, const Series& series, const std::set<std::string>& gone,
                        std::vector<std::string>& removed) {
  std::vector<const Snapshot*> doomed;
  bool all_go = !series.is_current();
  for (const Snapshot& s : series.snapshots) {
    if (s.complete && gone.count(s.name)) doomed.push_back(&s);
    else if (s.complete || s.unknown() || s.failed) all_go = false;  // partials go with the series
  }
  if (doomed.empty()) return;
  if (all_go) {
    remove_snapshot_folder(dest_fd, series.folder, {});  // renamed hidden in DEST first, then deleted
    for (const Snapshot* s : doomed) removed.push_back(s->name), spdlog::info("removed {} (with its series {})", s->name, series.folder);
    return;
  }
  UniqueFd fd = open_dir(dest_fd, dest.root, series.folder);
  Journal journal = Journal::open(UniqueFd(::dup(fd.get())), series.path);
  for (const Snapshot* s : doomed) {
    remove_snapshot_folder(fd.get(), s->name, [&] {
      journal.forget(s->name);
      journal.save();
      forget_checksum_record(fd.get(), s->name);
    });
    removed.push_back(s->name);
    spdlog::info("removed {}", s->path.string());
  }
}

}  // namespace

std::vector<std::string> prune_destination(const fs::path& root, const PruneRequest& request) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw Failure("destination " + root.string() + ": does not exist");
  if (!fs::is_directory(root, ec)) throw Failure("destination " + root.string() + ": not a directory");
  if (!Destination::looks_like_destination(root)) throw Failure("destination " + root.string() + ": holds no bkp series");
  std::vector<const Snapshot*> complete;
  if (request.dry_run) {  // no lock, nothing written
    const Destination dest = Destination::scan(root);
    refuse_untrusted(dest);
    print(root, decide(dest, request, complete), complete, request);
    return {};
  }
  {  // refused before the lock file is touched
    const Destination dest = Destination::scan(root);
    refuse_untrusted(dest);
    decide(dest, request, complete);
  }
  DestinationLock lock(root);
  const UniqueFd dest_fd(::open(root.c_str(), kDirFlags & ~O_NOFOLLOW));
  if (!dest_fd) throw Failure("destination " + root.string() + ": cannot open it: " + std::strerror(errno));
  finish_removals(dest_fd.get());  // what a killed prune left
  const Destination dest = Destination::scan(root);
  refuse_untrusted(dest);
  const auto decisions = decide(dest, request, complete);
  print(root, decisions, complete, request);
  std::set<std::string> gone;
  for (const auto& d : decisions)
    if (!d.keep) gone.insert(d.snapshot.name);
  std::vector<std::string> removed;
  for (const Series& series : dest.series) {
    if (!series.being_removed.empty()) finish_removals(open_dir(dest_fd.get(), root, series.folder).get());
    remove_from_series(dest_fd.get(), dest, series, gone, removed);
  }
  spdlog::info("prune: {} snapshots removed, {} kept", removed.size(), decisions.size() - removed.size());
  return removed;
}

int prune_command(int argc, const char* const argv[]) {
  std::string destination;
  KeepOptions keep;
  PruneRequest request;
  LogOptions log;
  po::options_description desc("bkp prune options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&destination)->required(), "the destination DEST");
  add_keep_options(desc, keep);
  desc.add_options()
      ("dry-run,n", po::bool_switch(&request.dry_run), "say what would be kept and removed, and why; change nothing")
      ("json", po::bool_switch(&request.json), "print the decisions as JSON");
  add_log_options(desc, log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp prune -d DEST KEEP-RULES... [SNAPSHOT...] [--dry-run] [--json]\n"
                          "Removes every complete snapshot that no keep rule keeps (restic's forget rules, over\n"
                          "all series): the newest and pinned snapshots are always kept. Named snapshots are\n"
                          "removed as well. See bkp(1), RETENTION.\n"))
    return kExitOk;
  parse_args_with_operands(argc, argv, desc, request.remove);
  setup_logging(log);
  request.rules = keep.rules();
  if (request.rules.empty() && request.remove.empty())
    throw UsageError("prune: no keep rule given (--keep-last, --keep-daily, ... or --keep-within); see bkp prune --help");
  prune_destination(fs::absolute(destination).lexically_normal(), request);
  return kExitOk;
}

}  // namespace bkp
