// One run per destination: an exclusive flock on DEST/.bkp.lock, which also records the
// holder's pid so that a second run can name it.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace bkp {

class LockBusy : public std::runtime_error {
 public:
  LockBusy(const std::filesystem::path& file, pid_t holder);
  pid_t holder() const { return holder_; }

 private:
  pid_t holder_;
};

class DestinationLock {
 public:
  // Takes the lock at once or throws LockBusy; other failures throw std::system_error.
  explicit DestinationLock(const std::filesystem::path& dest);
  ~DestinationLock();
  DestinationLock(const DestinationLock&) = delete;
  DestinationLock& operator=(const DestinationLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace bkp
