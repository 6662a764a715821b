#include "walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "errors.h"
#include "unique_fd.h"

namespace bkp {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

using Name = DirName;

}  // namespace

// The whole listing first, so that at most one directory stream per level is open.
bool read_directory(int dir_fd, std::vector<DirName>& out) {
  const int listing = ::openat(dir_fd, ".", kDirFlags);
  DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
  if (dir == nullptr) {
    if (listing >= 0) ::close(listing);
    return false;
  }
  errno = 0;
  while (const dirent* d = ::readdir(dir)) {
    if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0)
      out.push_back({d->d_name, d->d_ino, d->d_type});
    errno = 0;
  }
  const int err = errno;
  ::closedir(dir);
  errno = err;
  return err == 0;
}

namespace {

class Walk {
 public:
  Walk(const WalkCallbacks& callbacks, const WalkOptions& options) : cb_(callbacks), options_(options) {}

  // A subdirectory queued for a worker thread instead of being walked at once.
  struct Job {
    int parent_fd;
    std::string name, path;
    struct stat st;
  };

  void directory(int dir_fd, const std::string& dir_path, unsigned depth, std::vector<Job>* defer) {
    std::vector<Name> names;
    if (!read_directory(dir_fd, names)) {
      report(dir_path, errno);
      if (names.empty()) return;
    }
    if (options_.inode_order)
      std::sort(names.begin(), names.end(), [](const Name& a, const Name& b) { return a.ino < b.ino; });
    for (const Name& n : names) {
      if (stopped_) return;
      std::string path = dir_path.empty() ? n.name : dir_path + "/" + n.name;
      struct stat st {};
      if (options_.stat || n.type == DT_UNKNOWN) {
        if (::fstatat(dir_fd, n.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          report(path, errno);
          continue;
        }
      } else {
        st.st_mode = DTTOIF(n.type);
      }
      const Visit v = cb_.enter(WalkEntry{dir_fd, n.name.c_str(), path, st, depth});
      if (v == Visit::stop) {
        stopped_ = true;
        return;
      }
      if (v != Visit::descend || !S_ISDIR(st.st_mode)) continue;
      if (defer != nullptr) defer->push_back(Job{dir_fd, n.name, std::move(path), st});
      else descend(dir_fd, n.name, path, st, depth);
    }
  }

  void descend(int parent_fd, const std::string& name, const std::string& path, const struct stat& st, unsigned depth) {
    UniqueFd sub(::openat(parent_fd, name.c_str(), kDirFlags));
    if (!sub) {
      report(path, errno);
      return;
    }
    directory(sub.get(), path, depth + 1, nullptr);
    sub.reset();
    if (cb_.leave && !stopped_) cb_.leave(WalkEntry{parent_fd, name.c_str(), path, st, depth});
  }

  bool stopped() const { return stopped_; }

 private:
  void report(const std::string& path, int err) {
    if (cb_.error) cb_.error(path, err);
  }

  const WalkCallbacks& cb_;
  const WalkOptions& options_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

bool walk_tree(int root_fd, const WalkCallbacks& callbacks, const WalkOptions& options) {
  Walk walk(callbacks, options);
  if (options.threads <= 1) {
    walk.directory(root_fd, "", 0, nullptr);
    return !walk.stopped();
  }
  // The root's subdirectories are independent trees: hand them out to the workers.
  std::vector<Walk::Job> jobs;
  walk.directory(root_fd, "", 0, &jobs);
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < options.threads; ++t)
    workers.emplace_back([&] {
      try {
        for (size_t i; (i = next++) < jobs.size() && !walk.stopped();)
          walk.descend(jobs[i].parent_fd, jobs[i].name, jobs[i].path, jobs[i].st, 0);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = jobs.size();
      }
    });
  for (auto& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
  return !walk.stopped();
}

bool walk_tree(const std::filesystem::path& root, const WalkCallbacks& callbacks, const WalkOptions& options) {
  UniqueFd fd(::open(root.c_str(), kDirFlags));
  if (!fd) throw_errno(root.string());
  return walk_tree(fd.get(), callbacks, options);
}

}  // namespace bkp
