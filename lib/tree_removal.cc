#include "tree_removal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "unique_fd.h"
#include "walker.h"

namespace bkp {
namespace {

// Where a directory is mounted: the mount id where the kernel tells it (bind mounts of the
// same file system differ there), else the device.
struct Mount {
  dev_t dev = 0;
  std::uint64_t id = 0;
  bool has_id = false;
  bool operator==(const Mount& o) const { return dev == o.dev && (!has_id || !o.has_id || id == o.id); }
};

// lstat() of `name` in `dir_fd` ("": of `dir_fd` itself) with the owner, mode and mount
// only; false with errno set when it fails.
bool stat_entry(int dir_fd, const char* name, struct stat& st, Mount& mount) {
  struct statx sx {};
  const int flags = AT_SYMLINK_NOFOLLOW | (*name == '\0' ? AT_EMPTY_PATH : 0);
  if (::statx(dir_fd, name, flags, STATX_TYPE | STATX_MODE | STATX_UID | STATX_MNT_ID, &sx) != 0)
    return false;
  st.st_mode = sx.stx_mode;
  st.st_uid = sx.stx_uid;
  mount.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  mount.has_id = (sx.stx_mask & STATX_MNT_ID) != 0;
  mount.id = sx.stx_mnt_id;
  return true;
}

class Removal {
 public:
  Removal(const std::string& name, const RemovalOptions& options) : name_(name), options_(options) {}

  // The directory tree below the open `root_fd` (on mount `mount`), not the root itself.
  void empty(int root_fd, const Mount& mount) {
    mount_ = mount;
    walk_tree(root_fd,
              {.enter = [this](const WalkEntry& e) { return enter(e); },
               .leave = [this](const WalkEntry& e) { remove(e.dir_fd, e.name, AT_REMOVEDIR, e.path); },
               .error = [this](const std::string& path, int err) { fail(path, err); }},
              {.threads = options_.threads, .stat = false});
  }

  // Unlinks `name` in `dir_fd` (flags: 0 or AT_REMOVEDIR); true when it is gone.
  bool remove(int dir_fd, const char* name, int flags, const std::string& path) {
    if (::unlinkat(dir_fd, name, flags) == 0) {
      removed_.fetch_add(1, std::memory_order_relaxed);
      if (options_.progress != nullptr) options_.progress->fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    if (errno == ENOENT) return true;
    // A directory that stays because something in it stayed was reported already.
    if (errno != ENOTEMPTY || failures_ == 0) fail(path, errno);
    return false;
  }

  // Makes a directory the caller owns readable, writable and searchable by it, so that
  // it can be emptied; never follows a symlink. False (reported) when that fails.
  bool make_accessible(int dir_fd, const char* name, const struct stat& st, const std::string& path) {
    if ((st.st_mode & S_IRWXU) == S_IRWXU || st.st_uid != ::geteuid()) return true;
    if (::fchmodat(dir_fd, name, (st.st_mode & 07777) | S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0) return true;
    fail(path, errno);
    return false;
  }

  void fail(const std::string& path, int err) {
    if (err == ENOENT) return;  // gone meanwhile: what removal wants
    const std::string full = path.empty() ? name_ : name_ + "/" + path;
    {
      std::lock_guard lock(mutex_);
      if (failures_ == 0) first_error_ = full + ": " + std::strerror(err);
      ++failures_;
    }
    if (options_.on_error) options_.on_error(full, err);
  }

  RemovalResult result(bool complete) {
    std::lock_guard lock(mutex_);
    return {removed_.load(), failures_.load(), first_error_, complete};
  }

 private:
  Visit enter(const WalkEntry& e) {
    if (!S_ISDIR(e.st.st_mode)) {
      remove(e.dir_fd, e.name, 0, e.path);
      return Visit::skip;
    }
    struct stat st {};
    Mount mount;
    if (!stat_entry(e.dir_fd, e.name, st, mount)) {
      fail(e.path, errno);
      return Visit::skip;
    }
    if (!S_ISDIR(st.st_mode)) {  // replaced since it was listed
      remove(e.dir_fd, e.name, 0, e.path);
      return Visit::skip;
    }
    if (mount != mount_) {  // a mount point (a bind mount too): never empty what is mounted
      fail(e.path, EBUSY);
      return Visit::skip;
    }
    return make_accessible(e.dir_fd, e.name, st, e.path) ? Visit::descend : Visit::skip;
  }

  const std::string& name_;
  const RemovalOptions& options_;
  Mount mount_;
  std::atomic<std::uint64_t> removed_{0}, failures_{0};
  std::mutex mutex_;
  std::string first_error_;
};

}  // namespace

RemovalResult remove_tree(int parent_fd, const std::string& name, const RemovalOptions& options) {
  Removal removal(name, options);
  struct stat st {};
  Mount mount, parent;
  if (!stat_entry(parent_fd, name.c_str(), st, mount)) {
    const int err = errno;
    removal.fail("", err);
    return removal.result(err == ENOENT);
  }
  if (!S_ISDIR(st.st_mode)) return removal.result(removal.remove(parent_fd, name.c_str(), 0, ""));
  struct stat parent_st {};
  if (stat_entry(parent_fd, "", parent_st, parent) && parent != mount) {
    removal.fail("", EBUSY);  // the tree itself is a mount point
    return removal.result(false);
  }
  if (removal.make_accessible(parent_fd, name.c_str(), st, "")) {
    UniqueFd root(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root) removal.empty(root.get(), mount);
    else removal.fail("", errno);
  }
  return removal.result(removal.remove(parent_fd, name.c_str(), AT_REMOVEDIR, ""));
}

}  // namespace bkp
