#include "rsync_runner.h"

#include <fcntl.h>
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

void parse_rsync_stats_line(const std::string& line, RsyncResult& result) {
  if (starts_with(line, "Number of regular files transferred:")) result.files = number_after_colon(line);
  else if (starts_with(line, "Total transferred file size:")) result.bytes = number_after_colon(line);
  else if (starts_with(line, "Number of files:")) result.total_files = number_after_colon(line);
}

RsyncResult run_rsync(const std::vector<std::string>& argv, bool progress_to_terminal) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw Failure(std::string("cannot create a pipe: ") + std::strerror(errno));
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
    ::dup2(out[1], STDOUT_FILENO);
    ::execvp(args[0], args.data());
    const int err = errno;
    [[maybe_unused]] auto ignored = ::write(exec_error[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(exec_error[1]);
  int child_errno = 0;
  const bool exec_failed = ::read(exec_error[0], &child_errno, sizeof child_errno) == sizeof child_errno;
  ::close(exec_error[0]);
  if (exec_failed) {
    ::close(out[0]);
    ::waitpid(pid, nullptr, 0);
    throw Failure(argv[0] + ": cannot run rsync: " + std::strerror(child_errno));
  }
  g_child = pid;

  // rsync ends progress lines with \r and everything else with \n.
  std::string line;
  bool progress_shown = false;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (c != '\r' && c != '\n') {
        line += c;
        continue;
      }
      if (c == '\r' && progress_to_terminal && !line.empty()) {
        std::fprintf(stderr, "\r%s", line.c_str());
        progress_shown = true;
      } else if (!line.empty()) {
        parse_rsync_stats_line(line, result);
        spdlog::debug("rsync: {}", line);
      }
      line.clear();
    }
  }
  ::close(out[0]);
  if (progress_shown) std::fputc('\n', stderr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace bkp
