#include "preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mountinfo.h"
#include "store.h"

namespace bkpfs {

namespace fs = std::filesystem;

namespace {

std::string describe(const fs::path& p, int err) { return p.string() + ": " + std::strerror(err); }

}  // namespace

bool is_mount_point(const fs::path& path) { return bkp::mount_at(path).has_value(); }

bool has_entries(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) != fs::directory_iterator();
}

void check_destination(const fs::path& dest) {
  std::error_code ec;
  const auto status = fs::status(dest, ec);
  if (ec) throw Refusal(describe(dest, ec.value()));
  if (!fs::is_directory(status)) throw Refusal(dest.string() + ": not a directory");
  if (::access(dest.c_str(), R_OK | X_OK) != 0) throw Refusal(describe(dest, errno));
  if (!bkp::Destination::looks_like_destination(dest))
    throw Refusal(dest.string() + ": not a bkp destination (no 0/cfg.ini and no series with a cfg.ini)");
}

void check_mountpoint(const fs::path& mountpoint) {
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) {
    // A dead FUSE mount (its daemon gone) answers ENOTCONN: still "already mounted".
    if (errno == ENOTCONN) throw Refusal(mountpoint.string() + ": already mounted (stale, unmount it first)");
    throw Refusal("mount point " + describe(mountpoint, errno));
  }
  if (!S_ISDIR(st.st_mode)) throw Refusal("mount point " + mountpoint.string() + ": not a directory");
  if (is_mount_point(mountpoint)) throw Refusal("mount point " + mountpoint.string() + ": already mounted");
}

void check_fuse_device() {
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  const int err = errno;
  if (err == EACCES || err == EPERM) {
    // The module is there; this user may not open the device (its mode, a container's
    // device rules, or a mount with nodev).
    const std::string who = ::geteuid() == 0 ? "root" : "user " + std::to_string(::geteuid());
    throw Refusal(describe("/dev/fuse", err) + " (" + who +
                  " may not open it: see its mode with ls -l /dev/fuse; it is normally crw-rw-rw-)");
  }
  throw Refusal(describe("/dev/fuse", err) + " (is the fuse module loaded? try modprobe fuse)");
}

}  // namespace bkpfs
