// One run per destination: a write lock on DEST/.bkp.lock. It is a POSIX record lock
// (fcntl), so that a second run asks the kernel who holds it (F_GETLK) and names a live
// process, never a stale pid read from the file before the holder could write it. The
// holder also writes its pid into the file, for people. A record lock belongs to the
// process: bkp takes it once per destination and only this class touches the file
// (closing any other descriptor of it would release the lock).
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <utility>

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
  std::pair<dev_t, ino_t> key_{};
};

// The pid of the live process holding DEST's lock, if one does (asked with F_GETLK on a
// read-only descriptor: nothing is created or written, so monitoring may call it).
// nullopt also when the lock file is missing or cannot be opened.
std::optional<pid_t> lock_holder(const std::filesystem::path& dest);

}  // namespace bkp
