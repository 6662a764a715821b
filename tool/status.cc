#include "status.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "cli.h"
#include "duration.h"
#include "errors.h"
#include "health.h"
#include "lock.h"
#include "logging.h"
#include "store.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace bkp {
namespace {

struct StatusOptions {
  std::string destination;
  std::optional<CalendarDuration> max_age;
  bool json = false;
  LogOptions log;
};

// What was found: the health of a destination that could be read, or why it could not.
struct Status {
  fs::path root;
  std::optional<Destination> dest;
  Health health;
  HealthLimits limits;
};

Status read_status(const StatusOptions& options) {
  Status s{fs::absolute(options.destination).lexically_normal(), {}, {}, {}};
  s.limits.now = std::time(nullptr);
  s.limits.max_age = options.max_age;
  std::error_code ec;
  const auto type = fs::status(s.root, ec).type();
  if (type == fs::file_type::not_found) {
    s.health.problem = "destination " + s.root.string() + ": does not exist";
  } else if (type != fs::file_type::directory) {
    s.health.problem = "destination " + s.root.string() + ": " + (ec ? ec.message() : "not a directory");
  } else {
    try {
      s.dest = Destination::scan(s.root);
      s.limits.lock_holder = lock_holder(s.root);
      s.health = assess_health(*s.dest, read_active_runs(*s.dest), s.limits);
    } catch (const std::system_error& e) {
      s.dest.reset();
      s.health = Health{};
      s.health.problem = "destination " + s.root.string() + ": " + e.what();
    }
  }
  return s;
}

std::string last_run_text(const Status& s) {
  const auto& run = s.health.last_run;
  if (!run) return "none recorded";
  std::string text = run->snapshot + " " + outcome_name(run->outcome);
  if (run->outcome == RunOutcome::running && s.limits.lock_holder) text += " (pid " + std::to_string(*s.limits.lock_holder) + ")";
  if (!run->finished.empty()) text += ", finished " + run->finished;
  if (!run->reason.empty()) text += ": " + run->reason;
  return text;
}

// Nagios plugin style: "BKP OK - text | perfdata", the keyword matching the exit status.
std::string summary(const Status& s) {
  const Health& h = s.health;
  std::string line = std::string(h.healthy ? "BKP OK - " : "BKP WARNING - ") + s.root.string() + ": ";
  if (!h.healthy) {
    line += h.problem;
  } else {
    line += "newest snapshot " + h.newest->name + " is " + (h.age < 0 ? "from the future" : format_age(h.age) + " old");
    if (h.last_run && h.last_run->outcome == RunOutcome::running) line += ", a run is in progress";
    else line += ", last run complete";
    if (h.last_run && !h.last_run->reason.empty()) line += " (" + h.last_run->reason + ")";
  }
  line += " |";
  if (h.newest) {
    line += " age=" + std::to_string(h.age < 0 ? 0 : h.age) + "s";
    if (s.limits.max_age) line += ";" + std::to_string(s.limits.now - s.limits.max_age->before(s.limits.now));
  }
  line += " snapshots=" + std::to_string(h.complete_snapshots);
  return line;
}

void print_text(const Status& s) {
  const Health& h = s.health;
  std::printf("%s\n", summary(s).c_str());
  if (!s.dest) return;
  std::printf("newest snapshot:    %s\n",
              h.newest ? (h.newest->name + " (series " + h.newest->series + "), " +
                          (h.age < 0 ? "from the future" : format_age(h.age) + " old"))
                             .c_str()
                       : "none");
  std::printf("complete snapshots: %zu\n", h.complete_snapshots);
  std::printf("last run:           %s\n", last_run_text(s).c_str());
  std::string partials;
  for (const Snapshot* p : h.newer_partials) partials += (partials.empty() ? "" : ", ") + p->name + " (series " + p->series + ")";
  std::printf("partial snapshots:  %s\n", partials.empty() ? "none newer than the newest complete one" : partials.c_str());
  if (s.limits.max_age) std::printf("max age:            %s\n", s.limits.max_age->text().c_str());
  for (const std::string& w : h.warnings) std::printf("warning:            %s\n", w.c_str());
}

nlohmann::json status_json(const Status& s) {
  const Health& h = s.health;
  nlohmann::json j = {{"destination", s.root.string()},
                      {"healthy", h.healthy},
                      {"problem", h.healthy ? nlohmann::json(nullptr) : nlohmann::json(h.problem)},
                      {"summary", summary(s)},
                      {"complete_snapshots", h.complete_snapshots},
                      {"newest_complete", nullptr},
                      {"last_run", nullptr},
                      {"newer_partials", nlohmann::json::array()},
                      {"max_age", s.limits.max_age ? nlohmann::json(s.limits.max_age->text()) : nlohmann::json(nullptr)},
                      {"warnings", h.warnings}};
  if (h.newest)
    j["newest_complete"] = {{"name", h.newest->name},   {"series", h.newest->series}, {"path", h.newest->path.string()},
                            {"time", h.newest->time}, {"age_seconds", h.age}};
  if (const auto& run = h.last_run) {
    nlohmann::json r = {{"snapshot", run->snapshot}, {"series", run->series}, {"status", outcome_name(run->outcome)}};
    if (!run->reason.empty()) r["reason"] = run->reason;
    if (run->rsync_exit) r["rsync_exit"] = *run->rsync_exit;
    if (!run->finished.empty()) r["finished"] = run->finished;
    if (run->outcome == RunOutcome::running && s.limits.lock_holder) r["pid"] = *s.limits.lock_holder;
    j["last_run"] = std::move(r);
  }
  for (const Snapshot* p : h.newer_partials)
    j["newer_partials"].push_back({{"name", p->name}, {"series", p->series}, {"status", p->partial ? "partial" : "failed"}});
  return j;
}

}  // namespace

int status_command(int argc, const char* const argv[]) {
  StatusOptions opt;
  po::options_description desc("bkp status options");
  desc.add_options()
      ("help,h", "show this help")
      ("destination,d", po::value(&opt.destination)->required(), "the destination DEST")
      ("max-age", po::value<std::string>()->notifier([&](const std::string& v) { opt.max_age = parse_calendar_duration(v, "--max-age"); }),
       "unhealthy when the newest complete snapshot is older (36h, 2d, 1y2m10d12h)")
      ("json", po::bool_switch(&opt.json), "print JSON instead of text");
  add_log_options(desc, opt.log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp status -d DEST [--max-age DURATION] [--json]\n"
                          "Shows the newest complete snapshot, its age, the outcome of the last run and partial\n"
                          "snapshots newer than it. Exit status 0: healthy; 1: no complete snapshot, the newest\n"
                          "is older than --max-age, or the last run failed or was interrupted; 2: usage error.\n"))
    return kExitOk;
  parse_args(argc, argv, desc);
  if (opt.max_age && opt.max_age->zero()) throw UsageError("--max-age: must be longer than zero");
  setup_logging(opt.log);
  const Status s = read_status(opt);
  if (opt.json) std::puts(status_json(s).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else print_text(s);
  std::fflush(stdout);
  if (s.health.healthy) return kExitOk;
  spdlog::error("{}", s.health.problem);
  return kExitFailure;
}

}  // namespace bkp
