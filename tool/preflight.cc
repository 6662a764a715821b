#include "preflight.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "block_sharing.h"
#include "errors.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

std::string errno_text() { return std::strerror(errno); }

fs::path strip_trailing_slashes(fs::path p) {
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Opens the directory and reports whether it holds anything; throws if it cannot be read.
bool directory_is_empty(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw Failure("source " + dir.string() + ": cannot read it: " + errno_text());
  bool empty = true;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) throw Failure("source " + dir.string() + ": cannot read it: " + std::strerror(err));
  return empty;
}

}  // namespace

std::vector<fs::path> check_sources(const std::vector<std::string>& sources, bool allow_empty) {
  std::vector<fs::path> out;
  for (const auto& given : sources) {
    if (given.empty()) throw UsageError("--sources: an empty path was given");
    const fs::path src = strip_trailing_slashes(fs::absolute(given).lexically_normal());
    struct stat st {};
    if (::lstat(src.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      // rsync would store the symlink itself, not what it points to: nothing backed up.
      std::error_code ec;
      const fs::path target = fs::canonical(src, ec);
      throw Failure("source " + given + ": is a symlink" + (ec ? std::string() : " to " + target.string()) +
                    "; give the directory itself (bkp keeps symlinks as symlinks)");
    }
    if (::stat(src.c_str(), &st) != 0)
      throw Failure("source " + given + ": " + (errno == ENOENT ? "does not exist" : errno_text()));
    if (!S_ISDIR(st.st_mode)) throw Failure("source " + given + ": not a directory");
    if (::access(src.c_str(), R_OK | X_OK) != 0) throw Failure("source " + given + ": cannot read it: " + errno_text());
    if (directory_is_empty(src) && !allow_empty)
      throw Failure("source " + given + ": is empty (a missing mount?); use --allow-empty to back it up anyway");
    out.push_back(src);
  }
  return out;
}

std::string find_rsync() {
  // BKP_RSYNC lets tests put a stand-in in front of the real rsync to force its exit codes.
  if (const char* forced = std::getenv("BKP_RSYNC"); forced != nullptr && *forced != '\0') {
    if (::access(forced, X_OK) != 0) throw Failure("rsync " + std::string(forced) + ": cannot run it: " + errno_text());
    return forced;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / "rsync";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  throw Failure("rsync: not found in PATH; install it (apt-get install rsync)");
}

namespace {

// A minimal POSIX access ACL (user::rw-, group::r--, other::r--) in the kernel's xattr format.
bool acl_supported(const fs::path& file) {
  struct Entry {
    uint16_t tag, perm;
    uint32_t id;
  };
  struct {
    uint32_t version = 2;
    Entry entries[3] = {{0x01, 6, UINT32_MAX}, {0x04, 4, UINT32_MAX}, {0x20, 4, UINT32_MAX}};
  } acl;
  return ::setxattr(file.c_str(), "system.posix_acl_access", &acl, sizeof acl, 0) == 0;
}

bool xattr_supported(const fs::path& file) {
  return ::setxattr(file.c_str(), "user.bkp-probe", "1", 1, 0) == 0;
}

}  // namespace

DestinationFeatures check_destination(const fs::path& dest) {
  bool created = false;
  struct stat st {};
  if (::stat(dest.c_str(), &st) != 0) {
    if (errno != ENOENT) throw Failure("destination " + dest.string() + ": " + errno_text());
    if (::mkdir(dest.c_str(), 0755) != 0)
      throw Failure("destination " + dest.string() + ": cannot create it: " + errno_text());
    created = true;
  } else if (!S_ISDIR(st.st_mode)) {
    throw Failure("destination " + dest.string() + ": not a directory");
  }
  if (::access(dest.c_str(), W_OK | X_OK) != 0)
    throw Failure("destination " + dest.string() + ": not writable: " + errno_text());

  const fs::path probe = dest / (".bkp-probe-" + std::to_string(::getpid()));
  const fs::path probe_link = probe.string() + ".link";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Failure("destination " + dest.string() + ": not writable: " + errno_text());
  ::close(fd);
  const bool links = ::link(probe.c_str(), probe_link.c_str()) == 0;
  const int link_errno = errno;
  DestinationFeatures features{acl_supported(probe), xattr_supported(probe), reflink_supported(dest)};
  ::unlink(probe_link.c_str());
  ::unlink(probe.c_str());
  if (!links) {
    if (created) ::rmdir(dest.c_str());
    throw Failure("destination " + dest.string() + ": its filesystem cannot hard link (" +
                  std::strerror(link_errno) + "), which incremental snapshots need");
  }
  return features;
}

}  // namespace bkp
