#include "copy_plain_files.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bounded_queue.h"
#include "plain_file.h"
#include "unique_fd.h"
#include "walker.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
// Files copied at once. Cold small files are bound by the disk's latency, and it serves
// concurrent reads almost side by side (50,000 files of 1-16 KiB on a virtio disk: 6.3 s
// read one at a time, 4.2 s two at a time, 2.5 s four at a time); the threads mostly wait,
// so more of them than cores is right. The whole full run of the benchmark's data on 2
// cores took 15-17 s with 1 thread, 8-10 s with 2, 6-7 s with 4, 6-8 s with 8.
constexpr unsigned kCopyThreads = 4;
// Bounds on what is held open: files queued for the copying threads, and the depth below
// which everything is left to rsync (each level holds the walker's and the target's
// directory); together a few hundred descriptors, below the usual limit of 1,024.
constexpr std::size_t kQueuedFiles = 128;
constexpr unsigned kMaxDepth = 64;
// rsync refuses paths of 4,096 bytes and more (bkp reports them, see DEEP PATHS in bkp(1));
// files near that are left to it, so that the snapshot holds what rsync alone would.
constexpr std::size_t kMaxPath = 4000;

using SharedDir = std::shared_ptr<const UniqueFd>;

struct CopyJob {
  UniqueFd file;    // the source file, open
  SharedDir into;   // the target directory its copy is linked into
  std::string name;
};

// rsync -a keeps every owner when it runs as root (bkp passes --numeric-ids then: by
// number); as another user it cannot give files away, so only the user's own files in one
// of its groups come out with the source's owner and group.
class Owners {
 public:
  Owners() : root_(::geteuid() == 0), uid_(::geteuid()) {
    groups_.resize(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
    groups_.resize(static_cast<std::size_t>(std::max(::getgroups(static_cast<int>(groups_.size()), groups_.data()), 0)));
    groups_.push_back(::getegid());
  }
  bool kept(const struct stat& st) const {
    return root_ || (st.st_uid == uid_ && std::find(groups_.begin(), groups_.end(), st.st_gid) != groups_.end());
  }
  bool give(int fd, const struct stat& st) const {
    return ::fchown(fd, root_ ? st.st_uid : static_cast<uid_t>(-1), st.st_gid) == 0;
  }

 private:
  bool root_;
  uid_t uid_;
  std::vector<gid_t> groups_;
};

enum class Outcome {
  copied,
  left,  // left to rsync
  stop,  // the target takes no copies (no O_TMPFILE, full, read-only): rsync does the rest
};

bool stops_everything(int err) {
  return err == EOPNOTSUPP || err == EISDIR || err == EINVAL || err == ENOSPC || err == EDQUOT || err == EROFS;
}

// Any extended attribute (ACLs included), or one that cannot be listed.
bool has_any_xattr(int fd) {
  const ssize_t n = ::flistxattr(fd, nullptr, 0);
  return n > 0 || (n < 0 && errno != ENOTSUP);
}

// A default ACL makes every file created in the directory inherit an access ACL.
bool passes_on_an_acl(int dir_fd) { return ::fgetxattr(dir_fd, "system.posix_acl_default", nullptr, 0) >= 0; }

// The same version of a file before and after it was read: nothing was written (mtime,
// size) and no metadata changed (ctime).
bool unchanged_meanwhile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// The `size` bytes of `in` into `out`, in the kernel. The number of bytes copied (fewer
// if the file shrank), or -1 (errno set). A file that grew meanwhile has a new mtime.
off_t copy_all(int in, int out, off_t size) {
  off_t offset = 0;
  while (offset < size) {
    const ssize_t n = ::sendfile(out, in, &offset, static_cast<size_t>(std::min<off_t>(size - offset, 1 << 30)));
    if (n == 0) break;
    if (n < 0 && errno != EINTR) return -1;
  }
  return offset;
}

constexpr off_t kHasZeroSector = -2;

bool zero_sector_in(const char* data, std::size_t size) {
  static const char zeros[512] = {};
  for (std::size_t at = 0; at < size; at += 512)
    if (std::memcmp(data + at, zeros, std::min<std::size_t>(512, size - at)) == 0) return true;
  return false;
}

// The same through `buffer`, giving up at the first all-zero 512-byte sector (where rsync
// --sparse could leave a hole): kHasZeroSector.
off_t copy_unless_zero_sector(int in, int out, std::vector<char>& buffer) {
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(in, buffer.data(), buffer.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? at : -1;
    if (zero_sector_in(buffer.data(), static_cast<std::size_t>(n))) return kHasZeroSector;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return -1;
      done += w;
    }
    at += n;
  }
}

// Links the unnamed file `fd` as `name` in `dir`. AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH;
// /proc/self/fd names the same open file for anyone else.
bool link_as(int fd, int dir, const char* name) {
  if (::linkat(fd, "", dir, name, AT_EMPTY_PATH) == 0) return true;
  if (errno != ENOENT && errno != EPERM) return false;
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  return ::linkat(AT_FDCWD, self.c_str(), dir, name, AT_SYMLINK_FOLLOW) == 0;
}

// True when the open directory `dir` is `root` or lies below it: each ".." up to "/" is
// compared with it by device and inode, which no symlink in a path can disguise.
bool lies_within(const struct stat& root, int dir) {
  UniqueFd at(::openat(dir, ".", kDirFlags));
  for (struct stat st {}; at && ::fstat(at.get(), &st) == 0;) {
    if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) return true;
    UniqueFd up(::openat(at.get(), "..", kDirFlags));
    struct stat parent {};
    if (!up || ::fstat(up.get(), &parent) != 0 || (parent.st_dev == st.st_dev && parent.st_ino == st.st_ino)) break;
    at = std::move(up);
  }
  return false;
}

class Copier {
 public:
  Copier(const PlainCopyPolicy& policy, std::size_t longest_root, UniqueFd target)
      : policy_(policy), longest_root_(longest_root) {
    dirs_.emplace("", std::make_shared<const UniqueFd>(std::move(target)));
  }

  // The walk (walker.h, on several threads): creates each directory in the target and
  // queues each plain file, opened.
  Visit enter(const WalkEntry& e) {
    if (stop_) return Visit::stop;
    const bool too_long = longest_root_ + 1 + e.path.size() >= kMaxPath;
    if (S_ISDIR(e.st.st_mode)) return too_long || e.depth + 1 >= kMaxDepth ? Visit::skip : enter_directory(e);
    if (too_long || !is_plain_file(e.st) || !owners_.kept(e.st)) return Visit::descend;
    SharedDir into = parent_of(e.path);
    UniqueFd file(::openat(e.dir_fd, e.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (into && file) queue_.push({std::move(file), std::move(into), e.name});
    return Visit::descend;
  }

  void leave(const WalkEntry& e) {
    std::lock_guard lock(dirs_mutex_);
    dirs_.erase(e.path);
  }

  // One copying thread, until the walk is over and the queue drained.
  void work() {
    std::vector<char> buffer(policy_.sparse ? 1 << 20 : 0);
    uint64_t files = 0, bytes = 0;
    while (std::optional<CopyJob> job = queue_.pop()) {
      if (stop_) continue;
      off_t size = 0;
      const Outcome outcome = copy(*job, buffer, size);
      if (outcome == Outcome::copied) ++files, bytes += static_cast<uint64_t>(size);
      if (outcome == Outcome::stop) stop_ = true;
    }
    files_ += files;
    bytes_ += bytes;
  }

  void finish() { queue_.close(); }

  PlainCopyStats stats() const { return {files_, bytes_, directories_}; }

 private:
  Visit enter_directory(const WalkEntry& e) {
    SharedDir parent = parent_of(e.path);
    if (!parent || ::mkdirat(parent->get(), e.name, 0700) != 0) return Visit::skip;  // private until rsync's turn
    UniqueFd dir(::openat(parent->get(), e.name, kDirFlags));
    if (!dir || passes_on_an_acl(dir.get())) return Visit::skip;
    ++directories_;
    std::lock_guard lock(dirs_mutex_);
    dirs_[e.path] = std::make_shared<const UniqueFd>(std::move(dir));
    return Visit::descend;
  }

  SharedDir parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    std::lock_guard lock(dirs_mutex_);
    const auto it = dirs_.find(slash == std::string::npos ? std::string() : path.substr(0, slash));
    return it == dirs_.end() ? nullptr : it->second;
  }

  Outcome copy(const CopyJob& job, std::vector<char>& buffer, off_t& size) {
    const int in = job.file.get();
    struct stat before {};
    if (::fstat(in, &before) != 0 || !is_plain_file(before) || !owners_.kept(before)) return Outcome::left;
    if (policy_.skip_xattrs && has_any_xattr(in)) return Outcome::left;
    UniqueFd out(::openat(job.into->get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    if (!out) return stops_everything(errno) ? Outcome::stop : Outcome::left;
    // rsync --xattrs would leave the copy with no xattrs but the source's (a security label
    // the filesystem gives every new file could not be removed).
    if (policy_.skip_xattrs && has_any_xattr(out.get())) return Outcome::left;
    size = policy_.sparse ? copy_unless_zero_sector(in, out.get(), buffer) : copy_all(in, out.get(), before.st_size);
    if (size < 0) return size == -1 && stops_everything(errno) ? Outcome::stop : Outcome::left;
    struct stat after {};
    if (::fstat(in, &after) != 0 || !unchanged_meanwhile(before, after) || size != before.st_size)
      return Outcome::left;  // written to while it was read: rsync copies what it finds
    const timespec times[2] = {{0, UTIME_OMIT}, before.st_mtim};
    if (!owners_.give(out.get(), before) || ::fchmod(out.get(), before.st_mode & 07777) != 0 ||
        ::futimens(out.get(), times) != 0)
      return Outcome::left;
    if (!link_as(out.get(), job.into->get(), job.name.c_str()))
      return stops_everything(errno) ? Outcome::stop : Outcome::left;
    return Outcome::copied;
  }

  const PlainCopyPolicy policy_;
  const std::size_t longest_root_;  // the longer of the source's and the target's path
  const Owners owners_;
  std::mutex dirs_mutex_;
  std::unordered_map<std::string, SharedDir> dirs_;  // target directories open on the walk's paths
  BoundedQueue<CopyJob> queue_{kQueuedFiles};  // from the walk to the copying threads
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> files_{0}, bytes_{0}, directories_{1};  // the target itself
};

}  // namespace

PlainCopyStats copy_plain_files(const fs::path& source, const fs::path& target, const PlainCopyPolicy& policy) {
  UniqueFd src(::open(source.c_str(), kDirFlags));
  if (!src) return {};  // a symlink (rsync copies the link) or unreadable (rsync reports it)
  // A destination inside the source: rsync copies the start of the new snapshot into itself;
  // a copy here would give it one more level of that to copy.
  struct stat root {};
  UniqueFd snapshot(::open(target.parent_path().c_str(), kDirFlags));
  if (::fstat(src.get(), &root) != 0 || !snapshot || lies_within(root, snapshot.get())) return {};
  if (::mkdir(target.c_str(), 0700) != 0) return {};
  UniqueFd dst(::open(target.c_str(), kDirFlags));
  if (!dst || passes_on_an_acl(dst.get())) return {};
  Copier copier(policy, std::max(source.native().size(), target.native().size()), std::move(dst));
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(kCopyThreads);
  for (unsigned t = 0; t < kCopyThreads; ++t)
    workers.emplace_back([&, t] {
      try {
        copier.work();
      } catch (...) {
        errors[t] = std::current_exception();
        copier.finish();
      }
    });
  std::exception_ptr walk_error;
  try {
    walk_tree(src.get(),
              {.enter = [&](const WalkEntry& e) { return copier.enter(e); },
               .leave = [&](const WalkEntry& e) { copier.leave(e); }},
              {.threads = 2, .inode_order = true});
  } catch (...) {
    walk_error = std::current_exception();
  }
  copier.finish();
  for (auto& w : workers) w.join();
  if (walk_error) std::rethrow_exception(walk_error);
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return copier.stats();
}

}  // namespace bkp
