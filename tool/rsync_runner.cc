#include "rsync_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "errors.h"

namespace bkp {
namespace {

std::atomic<pid_t> g_child{0};

void forward_signal(int sig) {
  const pid_t child = g_child.load();
  if (child > 0) ::kill(child, sig);
}

// Passes SIGINT/SIGTERM on to rsync while it runs, so bkp itself lives to record the outcome.
class ForwardSignals {
 public:
  ForwardSignals() {
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~ForwardSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

uint64_t number_after_colon(const std::string& line) {
  uint64_t value = 0;
  const auto colon = line.find(':');
  for (size_t i = colon + 1; i < line.size(); ++i) {
    if (line[i] >= '0' && line[i] <= '9') value = value * 10 + static_cast<uint64_t>(line[i] - '0');
    else if (line[i] != ',' && line[i] != ' ') break;
  }
  return value;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

RsyncOutcome classify_rsync_exit(int exit_code) {
  switch (exit_code) {
    case 0: return RsyncOutcome::complete;
    case 24: return RsyncOutcome::complete_vanished;
    case 23: return RsyncOutcome::complete_unreadable;
    default: return RsyncOutcome::failed;
  }
}

RsyncOutcome classify_rsync_result(const RsyncResult& result) {
  const RsyncOutcome by_code = classify_rsync_exit(result.exit_code);
  if (by_code != RsyncOutcome::failed && result.destination_errors > 0) return RsyncOutcome::failed;
  return by_code;
}

RsyncErrorSide classify_rsync_error_line(const std::string& line) {
  if (starts_with(line, "filename overflows max-path len")) return RsyncErrorSide::path_too_long;
  if (!starts_with(line, "rsync:") || starts_with(line, "rsync error:")) return RsyncErrorSide::none;
  std::string role = line.substr(6, 12);
  for (char& c : role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (role.starts_with(" [sender]")) return RsyncErrorSide::source;
  if (role.starts_with(" [receiver]") || role.starts_with(" [generator]")) return RsyncErrorSide::destination;
  for (const char* disk_trouble : {"(28)", "(122)", "(5)", "(30)"})  // ENOSPC EDQUOT EIO EROFS
    if (line.ends_with(disk_trouble)) return RsyncErrorSide::destination;
  return RsyncErrorSide::source;
}

void parse_rsync_stats_line(const std::string& line, RsyncResult& result) {
  if (starts_with(line, "Number of regular files transferred:")) result.files = number_after_colon(line);
  else if (starts_with(line, "Total transferred file size:")) result.bytes = number_after_colon(line);
  else if (starts_with(line, "Number of files:")) result.total_files = number_after_colon(line);
}

namespace {

// rsync ends progress lines with \r and everything else with \n.
class LineSplitter {
 public:
  template <typename OnLine>
  void feed(const char* data, size_t n, OnLine&& on_line) {
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (c != '\r' && c != '\n') {
        line_ += c;
        continue;
      }
      if (!line_.empty()) on_line(line_, c == '\r');
      line_.clear();
    }
  }

 private:
  std::string line_;
};

}  // namespace

RsyncResult run_rsync(const std::vector<std::string>& argv, bool progress_to_terminal) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw Failure(std::string("cannot create a pipe: ") + std::strerror(errno));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  RsyncResult result;
  ForwardSignals forwarding;
  int exec_error[2];  // the child reports a failed exec through this close-on-exec pipe
  if (::pipe2(exec_error, O_CLOEXEC) != 0) throw Failure(std::string("cannot create a pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Failure(std::string("cannot start rsync: ") + std::strerror(errno));
  if (pid == 0) {
    // If bkp is killed (even with SIGKILL), rsync must not go on writing behind the
    // back of the next run, which no longer sees a lock.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execvp(args[0], args.data());
    const int err = errno;
    [[maybe_unused]] auto ignored = ::write(exec_error[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_error[1]);
  int child_errno = 0;
  const bool exec_failed = ::read(exec_error[0], &child_errno, sizeof child_errno) == sizeof child_errno;
  ::close(exec_error[0]);
  if (exec_failed) {
    ::close(out[0]);
    ::close(err[0]);
    ::waitpid(pid, nullptr, 0);
    throw Failure(argv[0] + ": cannot run rsync: " + std::strerror(child_errno));
  }
  g_child = pid;

  bool progress_shown = false;
  auto on_output = [&](const std::string& line, bool progress) {
    if (progress && progress_to_terminal) {
      std::fprintf(stderr, "\r%s", line.c_str());
      progress_shown = true;
    } else if (!progress) {
      parse_rsync_stats_line(line, result);
      spdlog::debug("rsync: {}", line);
    }
  };
  // The first error lines are shown; a full disk can make rsync report thousands.
  constexpr uint64_t kErrorsShown = 10;
  uint64_t errors_seen = 0;
  auto on_error = [&](const std::string& line, bool) {
    if (progress_shown) std::fputc('\n', stderr), progress_shown = false;
    switch (classify_rsync_error_line(line)) {
      case RsyncErrorSide::destination:
        if (result.destination_errors++ == 0) result.first_destination_error = line;
        break;
      case RsyncErrorSide::source: ++result.source_errors; break;
      case RsyncErrorSide::path_too_long: ++result.paths_too_long; break;
      case RsyncErrorSide::none: break;
    }
    if (++errors_seen <= kErrorsShown) spdlog::warn("{}", line);
    else spdlog::debug("{}", line);
  };
  LineSplitter out_lines, err_lines;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[8192];
  for (int open_fds = 2; open_fds > 0;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
        continue;
      }
      if (k == 0) out_lines.feed(buf, static_cast<size_t>(n), on_output);
      else err_lines.feed(buf, static_cast<size_t>(n), on_error);
    }
  }
  if (progress_shown) std::fputc('\n', stderr);
  if (errors_seen > kErrorsShown)
    spdlog::warn("rsync reported {} more errors (all of them are in the log with -v or --log-file)",
                 errors_seen - kErrorsShown);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace bkp
