#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"

namespace bkp {
namespace {

[[noreturn]] void pipe_failed() { throw Failure(std::string("cannot create a pipe: ") + std::strerror(errno)); }

}  // namespace

Child spawn_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  int out[2], err[2] = {-1, -1}, exec_error[2];
  if (::pipe2(out, O_CLOEXEC) != 0) pipe_failed();
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (options.capture_stderr && ::pipe2(err, O_CLOEXEC) != 0) pipe_failed();
  UniqueFd err_read(err[0]), err_write(err[1]);
  // The child reports a failed exec through this close-on-exec pipe.
  if (::pipe2(exec_error, O_CLOEXEC) != 0) pipe_failed();
  UniqueFd error_read(exec_error[0]), error_write(exec_error[1]);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Failure("cannot start " + argv[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    if (options.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // `bkp run` blocks the signals it waits for
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    if (options.capture_stderr) ::dup2(err[1], STDERR_FILENO);
    if (options.executable.empty()) ::execvp(args[0], args.data());
    else ::execv(options.executable.c_str(), args.data());
    const int e = errno;
    [[maybe_unused]] auto ignored = ::write(exec_error[1], &e, sizeof e);
    ::_exit(127);
  }
  out_write.reset();
  err_write.reset();
  error_write.reset();
  int child_errno = 0;
  if (::read(error_read.get(), &child_errno, sizeof child_errno) == sizeof child_errno) {
    wait_for_child(pid);
    throw Failure(argv[0] + ": cannot run it: " + std::strerror(child_errno));
  }
  return Child{pid, std::move(out_read), std::move(err_read)};
}

void LineSplitter::feed(const char* data, size_t n, const LineHandler& on_line) {
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

void LineSplitter::finish(const LineHandler& on_line) {
  if (!line_.empty()) on_line(line_, false);
  line_.clear();
}

int stream_child(Child& child, const LineHandler& on_stdout, const LineHandler& on_stderr) {
  LineSplitter splitters[2];
  const LineHandler* handlers[2] = {&on_stdout, &on_stderr};
  pollfd fds[2] = {{child.out.get(), POLLIN, 0}, {child.err.get(), POLLIN, 0}};
  int open_fds = 0;
  for (const pollfd& p : fds) open_fds += p.fd >= 0;
  char buf[8192];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        splitters[k].finish(*handlers[k]);
        fds[k].fd = -1;
        --open_fds;
        continue;
      }
      splitters[k].feed(buf, static_cast<size_t>(n), *handlers[k]);
    }
  }
  child.out.reset();
  child.err.reset();
  return wait_for_child(child.pid);
}

int wait_for_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 128 + SIGKILL;  // not ours to wait for: it is gone
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace bkp
