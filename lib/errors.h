// How bkp and bkpfs fail: every refusal or failure is one exception carrying the exit code
// and a one-line message naming the path or option at fault; main() prints it and exits.
// Also the one place that turns errno into an exception.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace bkp {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // refused to start, or the run failed (snapshot left partial)
  kExitUsage = 2,         // bad command line
  kExitUnreadable = 3,    // snapshot complete, but rsync could not read some files (rsync 23)
};

class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

class UsageError : public Failure {
 public:
  explicit UsageError(const std::string& message) : Failure(message, kExitUsage) {}
};

// Throws std::system_error for the current errno (or `err`), naming what failed.
[[noreturn]] inline void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}
[[noreturn]] inline void throw_error(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace bkp
