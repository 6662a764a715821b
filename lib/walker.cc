#include "walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
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

// A directory whose content is being walked. A subdirectory holds its parent, so that the
// parent's descriptor stays open for the subdirectory's `leave` call, on whichever thread
// that happens, and the parent's own `leave` waits until every subdirectory is done.
struct Dir {
  std::shared_ptr<Dir> parent;  // null for the root of the walk
  UniqueFd owned;               // the descriptor, unless it is the caller's root
  int fd = -1;
  std::string name, path;       // the directory's entry in its parent
  struct stat st {};
  unsigned depth = 0;           // the entry's depth; its content is one deeper
  bool opened = false;          // only an opened directory gets a `leave` call
  std::atomic<unsigned> pending{1};  // its own listing + one per subdirectory not done yet
};
using DirPtr = std::shared_ptr<Dir>;

class Walk {
 public:
  Walk(const WalkCallbacks& callbacks, const WalkOptions& options) : cb_(callbacks), options_(options) {}

  // Walks everything below `root_fd`, on the calling thread and options_.threads - 1 more.
  void run(int root_fd) {
    auto root = std::make_shared<Dir>();
    root->fd = root_fd;
    root->opened = true;
    if (options_.threads <= 1) {
      content(root);
      return;
    }
    std::vector<std::thread> workers;
    for (unsigned t = 1; t < options_.threads; ++t) workers.emplace_back([this] { guarded([this] { work(); }); });
    guarded([&] {
      content(root);
      root.reset();
      work();
    });
    for (auto& w : workers) w.join();
    if (failure_) std::rethrow_exception(failure_);
  }

  bool stopped() const { return stopped_; }

 private:
  // Walks the entries of the open directory `dir`, descending into subdirectories here or
  // handing them to an idle thread, then gives up the listing's token.
  void content(const DirPtr& dir) {
    std::vector<Name> names;
    if (!read_directory(dir->fd, names)) report(dir->path, errno);
    if (options_.inode_order)  // the disk's order: far fewer seeks when files are read
      std::sort(names.begin(), names.end(), [](const Name& a, const Name& b) { return a.ino < b.ino; });
    for (const Name& n : names) {
      if (stopped_) break;
      std::string path = dir->path.empty() ? n.name : dir->path + "/" + n.name;
      struct stat st {};
      if (options_.stat || n.type == DT_UNKNOWN) {
        if (::fstatat(dir->fd, n.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          report(path, errno);
          continue;
        }
      } else {
        st.st_mode = DTTOIF(n.type);
        st.st_ino = n.ino;
      }
      const unsigned depth = dir->parent ? dir->depth + 1 : 0;
      const Visit v = cb_.enter(WalkEntry{dir->fd, n.name.c_str(), path, st, depth});
      if (v == Visit::stop) {
        stopped_ = true;
        break;
      }
      if (v != Visit::descend || !S_ISDIR(st.st_mode)) continue;
      auto sub = std::make_shared<Dir>();
      sub->parent = dir;
      sub->name = n.name;
      sub->path = std::move(path);
      sub->st = st;
      sub->depth = depth;
      ++dir->pending;
      if (!hand_out(sub)) descend(std::move(sub));
    }
    done(dir);
  }

  void descend(DirPtr sub) {
    if (stopped_) {
      done(std::move(sub));
      return;
    }
    sub->owned = UniqueFd(::openat(sub->parent->fd, sub->name.c_str(), kDirFlags));
    if (!sub->owned) {
      report(sub->path, errno);
      done(std::move(sub));
      return;
    }
    sub->fd = sub->owned.get();
    sub->opened = true;
    content(sub);
  }

  // Gives up one token of `dir`; the last one closes it, calls its `leave`, and gives up
  // the token it held of its parent. When the root's last token goes, the walk is over.
  void done(DirPtr dir) {
    while (dir && --dir->pending == 0) {
      DirPtr parent = std::move(dir->parent);
      dir->owned.reset();
      if (!parent) {
        finish();
        return;
      }
      if (dir->opened && cb_.leave && !stopped_)
        cb_.leave(WalkEntry{parent->fd, dir->name.c_str(), dir->path, dir->st, dir->depth});
      dir = std::move(parent);
    }
  }

  // Queues `sub` for another thread, unless enough are queued already (then walk it here).
  // A few queued ahead let a thread that runs out of work go on at once.
  bool hand_out(const DirPtr& sub) {
    if (options_.threads <= 1 || queued_.load(std::memory_order_relaxed) >= options_.threads) return false;
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.threads) return false;
    queue_.push_back(sub);
    queued_ = queue_.size();
    if (idle_ > 0) wake_.notify_one();
    return true;
  }

  // Takes queued subdirectories until the walk is over.
  void work() {
    for (;;) {
      DirPtr sub;
      {
        std::unique_lock lock(mutex_);
        ++idle_;
        wake_.wait(lock, [&] { return !queue_.empty() || finished_; });
        --idle_;
        if (queue_.empty()) return;
        sub = std::move(queue_.front());
        queue_.pop_front();
        queued_ = queue_.size();
      }
      descend(std::move(sub));
    }
  }

  void finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    wake_.notify_all();
  }

  // Runs `f`; an exception ends the walk on every thread and is rethrown by run().
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      stopped_ = true;
      std::lock_guard lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      finished_ = true;
      queue_.clear();
      queued_ = 0;
      wake_.notify_all();
    }
  }

  void report(const std::string& path, int err) {
    if (cb_.error) cb_.error(path, err);
  }

  const WalkCallbacks& cb_;
  const WalkOptions& options_;
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<DirPtr> queue_;
  std::atomic<std::size_t> queued_{0};  // queue_.size(), readable without mutex_
  unsigned idle_ = 0;                    // threads waiting in work()
  bool finished_ = false;
  std::exception_ptr failure_;
};

}  // namespace

bool walk_tree(int root_fd, const WalkCallbacks& callbacks, const WalkOptions& options) {
  Walk walk(callbacks, options);
  walk.run(root_fd);
  return !walk.stopped();
}

bool walk_tree(const std::filesystem::path& root, const WalkCallbacks& callbacks, const WalkOptions& options) {
  UniqueFd fd(::open(root.c_str(), kDirFlags));
  if (!fd) throw_errno(root.string());
  return walk_tree(fd.get(), callbacks, options);
}

}  // namespace bkp
