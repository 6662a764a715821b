// Child processes the way bkp starts them: an argument vector (no shell), stdin from
// /dev/null (so a password prompt can never hang a scheduled run), stdout and stderr read
// line by line. Used for rsync (rsync_runner.h) and for the jobs of `bkp run` (run_jobs.h).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace bkp {

struct ChildOptions {
  bool capture_stderr = true;   // else the child writes to bkp's own stderr
  // The child gets SIGTERM when bkp dies (even of SIGKILL): an rsync must not go on writing
  // behind the back of the next run, which no longer sees a lock.
  bool die_with_parent = true;
  // The program to run, when it is not argv[0] looked up in PATH (e.g. "/proc/self/exe").
  std::string executable;
};

struct Child {
  pid_t pid = -1;
  UniqueFd out;  // its stdout
  UniqueFd err;  // its stderr, when captured
};

// Starts argv[0] (looked up in PATH, or options.executable) with an empty signal mask. Throws Failure naming
// argv[0] when it cannot be started (a failed exec is reported, not left to exit 127).
Child spawn_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

// Called for every line; `carriage_return` when it ended with \r (rsync's progress lines).
using LineHandler = std::function<void(const std::string& line, bool carriage_return)>;

// Cuts a byte stream into lines ended by \n or \r.
class LineSplitter {
 public:
  void feed(const char* data, size_t n, const LineHandler& on_line);
  // The last line, if it did not end with a newline.
  void finish(const LineHandler& on_line);

 private:
  std::string line_;
};

// Reads the child's stdout and stderr until both are closed, then waits for it. Returns its
// exit status, or 128+signal if it was killed.
int stream_child(Child& child, const LineHandler& on_stdout, const LineHandler& on_stderr);

// waitpid, retrying on EINTR; the exit status or 128+signal.
int wait_for_child(pid_t pid);

}  // namespace bkp
