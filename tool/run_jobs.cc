#include "run_jobs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "backup.h"
#include "human_units.h"
#include "backup_options.h"
#include "child_process.h"
#include "cli.h"
#include "errors.h"
#include "job_schedule.h"
#include "logging.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using nlohmann::json;

namespace bkp {
namespace {

constexpr const char* kDefaultJobs = "/etc/bkp/jobs";

struct JobRunOptions {
  std::string jobs_dir = kDefaultJobs;
  std::vector<std::string> names;
  unsigned parallel = 2;
  bool json = false;
  LogOptions log;
};

struct Job {
  std::string name;
  fs::path file;
  std::string destination;  // absolute: jobs on one destination take turns
  json summary;             // its --json summary, once it is over (or made up when it had none)
  int exit_code = -1;
  // While it runs:
  pid_t pid = -1;
  UniqueFd pidfd, out;
  std::string output;
  std::chrono::steady_clock::time_point started;
};

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  return buf;
}

// The job files: the names given, or every NAME.conf in DIR (not hidden ones), by name.
std::vector<Job> find_jobs(const JobRunOptions& o) {
  const fs::path dir = o.jobs_dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Failure("jobs folder " + dir.string() + ": " + (fs::exists(dir, ec) ? "not a directory" : "does not exist"));
  std::vector<std::string> names;
  for (const std::string& name : o.names) {
    if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
      throw UsageError("job '" + name + "': a job is named by its file DIR/NAME.conf; give NAME");
    if (!fs::is_regular_file(dir / (name + ".conf"), ec))
      throw UsageError("job " + name + ": " + (dir / (name + ".conf")).string() + " does not exist");
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (o.names.empty()) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string file = e.path().filename().string();
      if (file.size() > 5 && file.ends_with(".conf") && file[0] != '.' && e.is_regular_file(ec))
        names.push_back(file.substr(0, file.size() - 5));
    }
    std::sort(names.begin(), names.end());
    if (names.empty()) throw Failure("jobs folder " + dir.string() + ": holds no job file (NAME.conf)");
  }
  std::vector<Job> jobs;
  for (const std::string& name : names) jobs.push_back(Job{.name = name, .file = dir / (name + ".conf")});
  return jobs;
}

// Reads a job file as the job itself will; a file that does not parse is that job's
// refusal, not the whole run's.
std::optional<std::string> read_job(Job& job) {
  const std::string file = job.file.string();
  const char* argv[] = {"bkp", "--config", file.c_str()};
  try {
    const BackupOptions options = parse_backup_options(3, argv);
    job.destination = fs::absolute(options.destination).lexically_normal().string();
    return std::nullopt;
  } catch (const UsageError& e) {
    return "job file " + file + ": " + e.what();
  }
}

std::vector<std::string> child_argv(const Job& job, const LogOptions& log) {
  std::vector<std::string> argv = {"bkp", "--config", job.file.string(), "--json", "--job-name", job.name};
  if (log.verbosity > 0) argv.emplace_back("-v");
  if (log.verbosity < 0) argv.emplace_back("-q");
  if (log.log_file) argv.insert(argv.end(), {"--log-file", log.log_file->string()});
  return argv;
}

void start(Job& job, const LogOptions& log) {
  job.started = std::chrono::steady_clock::now();
  spdlog::debug("job {}: starting", job.name);
  // bkp itself, whatever its name or path, even if the binary was replaced meanwhile.
  Child child = spawn_child(child_argv(job, log), {.capture_stderr = false, .executable = "/proc/self/exe"});
  job.pid = child.pid;
  job.out = std::move(child.out);
  ::fcntl(job.out.get(), F_SETFL, O_NONBLOCK);
  // Readable once the process has exited: poll() then waits for stdout and exits alike.
  // (glibc 2.36's <sys/pidfd.h> lacks extern "C", hence the raw system call.)
  job.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, job.pid, 0)));
  if (!job.pidfd) throw Failure(std::string("cannot watch a job's process (pidfd_open): ") + std::strerror(errno));
}

// Reads what the job wrote on stdout so far; false once it closed it.
bool read_output(Job& job) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(job.out.get(), buf, sizeof buf);
    if (n > 0) {
      job.output.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    job.out.reset();
    return false;
  }
}

// The job's summary is the last line of its stdout that is a JSON object; anything else it
// printed is passed on to the log.
void finish(Job& job, int exit_code) {
  if (job.out) read_output(job);
  job.out.reset();
  job.pidfd.reset();
  job.exit_code = exit_code;
  std::istringstream lines(job.output);
  for (std::string line; std::getline(lines, line);) {
    json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.contains("status")) job.summary = std::move(parsed);
    else if (!line.empty()) spdlog::info("job {}: {}", job.name, line);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - job.started).count();
  if (job.summary.is_null()) {
    const bool killed = exit_code > 128;
    job.summary = {{"status", killed ? "crashed" : "failed"},
                   {"message", killed ? "killed by signal " + std::to_string(exit_code - 128)
                                      : "exited with status " + std::to_string(exit_code) + " without a summary"},
                   {"seconds", seconds}};
  }
  job.summary["job"] = job.name;
  job.summary["exit_code"] = exit_code;  // the process's own, whatever its summary said
}

// Runs the jobs, at most `parallel` at once, until all are over or a signal stopped them.
void run_all(std::vector<Job*>& jobs, const JobRunOptions& o) {
  std::vector<std::string> destinations;
  for (const Job* job : jobs) destinations.push_back(job->destination);
  JobSchedule schedule(destinations, o.parallel);

  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &stop_signals, &previous);  // read from a signalfd instead
  UniqueFd signals(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
  std::vector<size_t> running;

  for (;;) {
    while (const auto next = schedule.start_next()) {
      try {
        start(*jobs[*next], o.log);
        running.push_back(*next);
      } catch (const Failure& e) {
        jobs[*next]->summary = {{"status", "failed"}, {"message", e.what()}};
        finish(*jobs[*next], kExitFailure);
        schedule.finished(*next);
      }
    }
    if (schedule.done()) break;
    std::vector<pollfd> fds = {{signals.get(), POLLIN, 0}};
    for (size_t k : running) {
      fds.push_back({jobs[k]->out.get(), POLLIN, 0});  // -1 once closed: poll skips it
      fds.push_back({jobs[k]->pidfd.get(), POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Failure(std::string("bkp run: poll: ") + std::strerror(errno));
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      if (::read(signals.get(), &info, sizeof info) == sizeof info) {
        const int sig = static_cast<int>(info.ssi_signo);
        spdlog::warn("{}: passing it on to {} running job(s); no other job starts", strsignal(sig), running.size());
        schedule.stop();
        for (size_t k : running) ::kill(jobs[k]->pid, sig);
      }
    }
    std::vector<size_t> still_running;
    for (size_t i = 0; i < running.size(); ++i) {
      Job& job = *jobs[running[i]];
      if (fds[1 + 2 * i].revents != 0) read_output(job);
      if (fds[2 + 2 * i].revents == 0) {
        still_running.push_back(running[i]);
        continue;
      }
      finish(job, wait_for_child(job.pid));
      schedule.finished(running[i]);
    }
    running = std::move(still_running);
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  for (size_t k : schedule.not_started())
    jobs[k]->summary = {{"job", jobs[k]->name}, {"status", "not started"}, {"exit_code", kExitFailure},
                        {"message", "bkp run was stopped before this job started"}};
}

}  // namespace

std::string job_summary_line(const json& s) {
  auto text = [&](const char* key) { return s.contains(key) && s[key].is_string() ? s[key].get<std::string>() : ""; };
  const std::string name = "job " + text("job") + ": ";
  const std::string status = text("status");
  const int code = s.value("exit_code", kExitFailure);
  const std::string seconds = s.contains("seconds") ? seconds_text(s["seconds"].get<double>()) : "";
  const std::string message = text("message").empty() ? "" : ": " + text("message");
  if (status == "not started") return name + "not started" + message;
  if (status == "complete") {
    const std::string kind = text("kind").empty() ? "" : " (" + text("kind") + ")";
    const std::string line = text("snapshot") + kind + ", " + seconds + ", " +
                             human_bytes(s.value("bytes", uint64_t{0})) + " transferred";
    return name + (code == kExitOk ? "complete, snapshot " + line
                                   : "complete (exit " + std::to_string(code) + "), snapshot " + line + message);
  }
  const std::string left = status == "failed" && !text("snapshot").empty() ? ", snapshot " + text("snapshot") + " left partial" : "";
  return name + status + " (exit " + std::to_string(code) + ")" + left + (seconds.empty() ? "" : ", " + seconds) + message;
}

int run_command(int argc, const char* const argv[]) {
  JobRunOptions o;
  po::options_description desc("bkp run options");
  desc.add_options()
      ("help,h", "show this help")
      ("jobs", po::value(&o.jobs_dir)->default_value(kDefaultJobs), "the folder of the job files NAME.conf")
      ("parallel", po::value(&o.parallel)->default_value(2), "run at most N jobs at once")
      ("json", po::bool_switch(&o.json), "print every job's summary as JSON on stdout");
  add_log_options(desc, o.log);
  if (print_help_if_asked(argc, argv, desc,
                          "Usage: bkp run [--jobs DIR] [NAME...] [--parallel N] [--json]\n\n"
                          "Runs the backup jobs DIR/NAME.conf (all of them when no NAME is given), each a\n"
                          "backup run with the options in its file (the --config format of bkp --help),\n"
                          "and prints one summary line per job. Exit status 0 only when every job\n"
                          "succeeded. See RUNNING JOBS in bkp(1).\n"))
    return kExitOk;
  po::options_description all;
  all.add(desc).add_options()("names", po::value(&o.names));
  po::positional_options_description positional;
  positional.add("names", -1);
  parse_args(argc, argv, all, positional);
  if (o.parallel == 0) throw UsageError("--parallel: give at least 1");
  setup_logging(o.log);

  std::vector<Job> jobs = find_jobs(o);
  std::vector<Job*> runnable;
  for (Job& job : jobs) {
    if (const auto refusal = read_job(job)) {
      job.exit_code = kExitUsage;
      job.summary = {{"job", job.name}, {"status", "refused"}, {"exit_code", kExitUsage}, {"message", *refusal}};
    } else {
      runnable.push_back(&job);
    }
  }
  spdlog::info("{} job(s), at most {} at once", jobs.size(), o.parallel);
  run_all(runnable, o);

  json all_summaries = json::array();
  size_t succeeded = 0;
  for (const Job& job : jobs) {
    const bool ok = job.summary.value("exit_code", kExitFailure) == kExitOk;
    succeeded += ok;
    if (ok) spdlog::info("{}", job_summary_line(job.summary));
    else spdlog::error("{}", job_summary_line(job.summary));
    all_summaries.push_back(job.summary);
  }
  const int exit_code = succeeded == jobs.size() ? kExitOk : kExitFailure;
  const std::string total = std::to_string(jobs.size()) + " job(s): " + std::to_string(succeeded) + " succeeded, " +
                            std::to_string(jobs.size() - succeeded) + " did not";
  if (exit_code == kExitOk) spdlog::info("{}", total);
  else spdlog::error("{}", total);
  if (o.json) {
    const json out = {{"jobs", all_summaries}, {"succeeded", succeeded}, {"failed", jobs.size() - succeeded},
                      {"exit_code", exit_code}};
    std::puts(out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }
  return exit_code;
}

}  // namespace bkp
