#include "link_unchanged.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <mutex>
#include <unordered_set>
#include <atomic>
#include <cerrno>
#include <exception>
#include <thread>
#include <vector>
#include <cstring>
#include <string>
#include <system_error>

#include "errors.h"
#include "unchanged.h"
#include "xattrs.h"
#include "unique_fd.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

// A directory to mirror: open descriptors of source, previous and target, and the paths.
struct Job {
  UniqueFd src, prev, dst;
  std::string src_path, prev_path;
};

// Inodes of the previous snapshot already linked into the new one. Only files with a
// single name in the source are linked here, so one previous inode may be linked once: a
// second name for it (two names that were one file and are now two) must become a copy.
class LinkedInodes {
 public:
  bool claim(ino_t ino) {
    std::lock_guard lock(mutex_);
    return seen_.insert(ino).second;
  }

 private:
  std::mutex mutex_;
  std::unordered_set<ino_t> seen_;
};

class Linker {
 public:
  // With `deferred` set, subdirectories are queued there instead of being descended into.
  Linker(const LinkPolicy& policy, LinkedInodes& linked, std::vector<Job>* deferred = nullptr)
      : policy_(policy), linked_(linked), deferred_(deferred) {}

  // `src`, `prev` and `dst` are open directories; paths are kept only for xattr calls.
  void mirror(int src, int prev, int dst, const std::string& src_path, const std::string& prev_path) {
    const int listing = ::dup(src);  // closedir() closes it
    DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
    if (dir == nullptr) {  // unreadable: rsync will report it
      if (listing >= 0) ::close(listing);
      return;
    }
    while (const dirent* e = ::readdir(dir)) {
      const char* name = e->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      if (e->d_type != DT_REG && e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
      struct stat s {}, p {};
      if (::fstatat(src, name, &s, AT_SYMLINK_NOFOLLOW) != 0 || ::fstatat(prev, name, &p, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      if (S_ISDIR(s.st_mode) && S_ISDIR(p.st_mode)) {
        descend(src, prev, dst, name, src_path, prev_path);
      } else if (S_ISREG(s.st_mode) && s.st_nlink == 1 && same_version(s, p) && same_xattrs(src, prev, name) &&
                 linked_.claim(p.st_ino)) {
        // Files with several names in the source are left to rsync -H (with --link-dest),
        // which alone knows the whole group: linked here one by one, a name added to an
        // unchanged file would come out as a separate copy.
        if (::linkat(prev, name, dst, name, 0) == 0) ++stats.linked;
        else if (errno != EEXIST && errno != EMLINK) throw_errno("cannot link " + prev_path + "/" + name);
      }
    }
    ::closedir(dir);
  }

  LinkStats stats;

 private:
  void descend(int src, int prev, int dst, const char* name, const std::string& src_path,
               const std::string& prev_path) {
    UniqueFd sub_src(::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    UniqueFd sub_prev(::openat(prev, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub_src || !sub_prev) return;
    // Private until rsync gives it the source's mode, owner and times.
    if (::mkdirat(dst, name, 0700) != 0 && errno != EEXIST) throw_errno("cannot create " + std::string(name));
    UniqueFd sub_dst(::openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub_dst) throw_errno("cannot open " + std::string(name));
    ++stats.directories;
    Job job{std::move(sub_src), std::move(sub_prev), std::move(sub_dst), src_path + "/" + name, prev_path + "/" + name};
    if (deferred_ != nullptr) deferred_->push_back(std::move(job));
    else run(job);
  }

 public:
  void run(const Job& job) { mirror(job.src.get(), job.prev.get(), job.dst.get(), job.src_path, job.prev_path); }

 private:

  bool same_xattrs(int src, int prev, const char* name) const {
    return !policy_.compare_xattrs || xattr_signature(src, name) == xattr_signature(prev, name);
  }

  LinkPolicy policy_;
  LinkedInodes& linked_;
  std::vector<Job>* deferred_;
};

// Mirrors the queued top-level directories on `threads` threads: linking is bound by
// system calls, and the trees under different top-level folders are independent.
LinkStats run_in_parallel(std::vector<Job>& jobs, const LinkPolicy& policy, LinkedInodes& linked, unsigned threads) {
  std::atomic<size_t> next{0};
  std::vector<LinkStats> partial(threads);
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      try {
        Linker linker(policy, linked);
        for (size_t i; (i = next++) < jobs.size();) linker.run(jobs[i]);
        partial[t] = linker.stats;
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  for (auto& w : workers) w.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  LinkStats total;
  for (const auto& p : partial) {
    total.linked += p.linked;
    total.directories += p.directories;
  }
  return total;
}

}  // namespace

LinkStats link_unchanged(const fs::path& source, const fs::path& previous, const fs::path& target,
                         const LinkPolicy& policy) {
  UniqueFd src(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  UniqueFd prev(::open(previous.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!src || !prev) return {};  // nothing to link against: rsync copies everything
  if (::mkdir(target.c_str(), 0700) != 0) throw_errno("cannot create " + target.string());
  UniqueFd dst(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst) throw_errno("cannot open " + target.string());
  std::vector<Job> top_level;
  LinkedInodes linked;
  Linker linker(policy, linked, &top_level);
  linker.mirror(src.get(), prev.get(), dst.get(), source.string(), previous.string());
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  const LinkStats below = run_in_parallel(top_level, policy, linked, threads);
  return {linker.stats.linked + below.linked, 1 + linker.stats.directories + below.directories};
}

}  // namespace bkp
