#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "store.h"

namespace bkp {

LockBusy::LockBusy(const std::filesystem::path& file, pid_t holder)
    : std::runtime_error(file.string() + ": another bkp run holds the lock" +
                         (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string())),
      holder_(holder) {}

namespace {

pid_t read_pid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? static_cast<pid_t>(std::atoi(buf)) : 0;
}

}  // namespace

DestinationLock::DestinationLock(const std::filesystem::path& dest) {
  const auto file = dest / kLockFile;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + file.string());
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const pid_t holder = read_pid(fd_);
    ::close(fd_);
    if (err == EWOULDBLOCK) throw LockBusy(file, holder);
    throw std::system_error(err, std::generic_category(), "cannot lock " + file.string());
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid is only informative; the flock is what excludes other runs.
  }
}

DestinationLock::~DestinationLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace bkp
