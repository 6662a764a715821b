#include "lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cerrno>
#include <mutex>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "store.h"

namespace bkp {

LockBusy::LockBusy(const std::filesystem::path& file, pid_t holder)
    : std::runtime_error(file.string() + ": another bkp run holds the lock" +
                         (holder > 0 ? " (pid " + std::to_string(holder) + ")" : std::string())),
      holder_(holder) {}

namespace {

struct flock whole_file(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  return lock;
}

// Lock files this process holds. A record lock cannot exclude its own process, and closing
// any descriptor of the file would drop it, so a second lock of the same file in this
// process is refused before the file is opened again.
std::mutex g_held_mutex;
std::map<std::pair<dev_t, ino_t>, pid_t> g_held;  // -> the holding process (not a forked child)

}  // namespace

DestinationLock::DestinationLock(const std::filesystem::path& dest) {
  const auto file = dest / kLockFile;
  std::lock_guard guard(g_held_mutex);
  struct stat existing {};
  if (::lstat(file.c_str(), &existing) == 0) {
    const auto held = g_held.find({existing.st_dev, existing.st_ino});
    if (held != g_held.end() && held->second == ::getpid()) throw LockBusy(file, ::getpid());
  }
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + file.string());
  for (int attempt = 0;; ++attempt) {
    struct flock want = whole_file(F_WRLCK);
    if (::fcntl(fd_, F_SETLK, &want) == 0) break;
    const int err = errno;
    if (err != EACCES && err != EAGAIN) {
      ::close(fd_);
      throw std::system_error(err, std::generic_category(), "cannot lock " + file.string());
    }
    struct flock held = whole_file(F_WRLCK);
    const bool asked = ::fcntl(fd_, F_GETLK, &held) == 0;
    if (asked && held.l_type == F_UNLCK && attempt < 3) continue;  // released meanwhile: try again
    ::close(fd_);
    throw LockBusy(file, asked && held.l_type != F_UNLCK ? held.l_pid : 0);
  }
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    key_ = {st.st_dev, st.st_ino};
    g_held[key_] = ::getpid();
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    // The pid in the file is only for people; the lock is what excludes other runs.
  }
}

DestinationLock::~DestinationLock() {
  std::lock_guard guard(g_held_mutex);
  g_held.erase(key_);
  if (fd_ >= 0) ::close(fd_);
}

std::optional<pid_t> lock_holder(const std::filesystem::path& dest) {
  const auto file = dest / kLockFile;
  std::lock_guard guard(g_held_mutex);
  struct stat existing {};
  if (::lstat(file.c_str(), &existing) != 0) return std::nullopt;
  // Closing a descriptor of the file would drop a lock this process holds: answer from memory.
  if (const auto held = g_held.find({existing.st_dev, existing.st_ino});
      held != g_held.end() && held->second == ::getpid())
    return held->second;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct flock probe = whole_file(F_WRLCK);
  const bool asked = ::fcntl(fd, F_GETLK, &probe) == 0;
  ::close(fd);
  if (!asked || probe.l_type == F_UNLCK) return std::nullopt;
  return probe.l_pid;
}

}  // namespace bkp
