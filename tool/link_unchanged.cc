#include "link_unchanged.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <map>
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

#include "beneath.h"
#include "errors.h"
#include "unchanged.h"
#include "xattrs.h"
#include "unique_fd.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

// A directory to mirror: open descriptors of source, previous and target, its path relative
// to the roots, and the absolute paths for messages.
struct Job {
  UniqueFd src, prev, dst;
  std::string src_path, prev_path, rel;
};

// The names of source files that have more than one, collected during the walk and
// linked (or not) as whole groups afterwards.
struct GroupMember {
  std::string rel;        // relative to the roots
  bool in_previous = false;
  bool unchanged = false;  // its previous version is the same version (metadata, xattrs, content)
  ino_t previous_ino = 0;
};

class LinkGroups {
 public:
  void add(const struct stat& src, GroupMember member) {
    std::lock_guard lock(mutex_);
    auto& group = groups_[{src.st_dev, src.st_ino}];
    group.nlink = src.st_nlink;
    group.members.push_back(std::move(member));
  }
  struct Group {
    nlink_t nlink = 0;
    std::vector<GroupMember> members;
  };
  const std::map<std::pair<dev_t, ino_t>, Group>& groups() const { return groups_; }

 private:
  std::mutex mutex_;
  std::map<std::pair<dev_t, ino_t>, Group> groups_;
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
  Linker(const LinkPolicy& policy, LinkedInodes& linked, LinkGroups& groups, std::vector<Job>* deferred = nullptr)
      : policy_(policy), linked_(linked), groups_(groups), deferred_(deferred) {}

  // `src`, `prev` and `dst` are open directories; paths are kept only for messages.
  void mirror(int src, int prev, int dst, const std::string& src_path, const std::string& prev_path,
              const std::string& rel) {
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
      if (::fstatat(src, name, &s, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const bool in_previous = ::fstatat(prev, name, &p, AT_SYMLINK_NOFOLLOW) == 0;
      if (S_ISDIR(s.st_mode)) {
        if (in_previous && S_ISDIR(p.st_mode)) descend(src, prev, dst, name, src_path, prev_path, rel);
        continue;
      }
      if (!S_ISREG(s.st_mode)) continue;
      const bool unchanged = in_previous && S_ISREG(p.st_mode) && unchanged_file(s, p, src, prev, name);
      if (s.st_nlink > 1) {
        groups_.add(s, {rel.empty() ? name : rel + "/" + name, in_previous, unchanged, in_previous ? p.st_ino : 0});
      } else if (unchanged && linked_.claim(p.st_ino)) {
        link_one(prev, dst, name, prev_path);
      }
    }
    ::closedir(dir);
  }

  void link_one(int prev, int dst, const char* name, const std::string& prev_path) {
    if (::linkat(prev, name, dst, name, 0) == 0) ++stats.linked;
    else if (errno != EEXIST && errno != EMLINK) throw_errno("cannot link " + prev_path + "/" + name);
  }

  LinkStats stats;

 private:
  bool unchanged_file(const struct stat& s, const struct stat& p, int src, int prev, const char* name) const {
    return same_version(s, p) && (!policy_.compare_xattrs || xattr_signature(src, name) == xattr_signature(prev, name)) &&
           (!policy_.compare_content || same_content(src, name, prev, name));
  }

  void descend(int src, int prev, int dst, const char* name, const std::string& src_path,
               const std::string& prev_path, const std::string& rel) {
    UniqueFd sub_src(::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    UniqueFd sub_prev(::openat(prev, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub_src || !sub_prev) return;
    // Private until rsync gives it the source's mode, owner and times.
    if (::mkdirat(dst, name, 0700) != 0 && errno != EEXIST) throw_errno("cannot create " + std::string(name));
    UniqueFd sub_dst(::openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub_dst) throw_errno("cannot open " + std::string(name));
    ++stats.directories;
    Job job{std::move(sub_src), std::move(sub_prev), std::move(sub_dst), src_path + "/" + name,
            prev_path + "/" + name, rel.empty() ? name : rel + "/" + name};
    if (deferred_ != nullptr) deferred_->push_back(std::move(job));
    else run(job);
  }

 public:
  void run(const Job& job) {
    mirror(job.src.get(), job.prev.get(), job.dst.get(), job.src_path, job.prev_path, job.rel);
  }

 private:
  LinkPolicy policy_;
  LinkedInodes& linked_;
  LinkGroups& groups_;
  std::vector<Job>* deferred_;
};

// Mirrors the queued top-level directories on `threads` threads: linking is bound by
// system calls, and the trees under different top-level folders are independent.
LinkStats run_in_parallel(std::vector<Job>& jobs, const LinkPolicy& policy, LinkedInodes& linked, LinkGroups& groups,
                          unsigned threads) {
  std::atomic<size_t> next{0};
  std::vector<LinkStats> partial(threads);
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      try {
        Linker linker(policy, linked, groups);
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

// Links each hard-link group whose every name was seen and which is, as a whole, the same
// unchanged inode of the previous snapshot (names new in the source included).
uint64_t link_groups(const LinkGroups& groups, LinkedInodes& linked, int prev_root, int dst_root,
                     const fs::path& previous) {
  uint64_t done = 0;
  for (const auto& [source_inode, group] : groups.groups()) {
    if (group.members.size() != group.nlink) continue;  // a name outside the walk: rsync -H copies the group
    const GroupMember* model = nullptr;
    bool same = true;
    for (const GroupMember& m : group.members) {
      if (!m.in_previous) continue;
      if (!m.unchanged || (model != nullptr && m.previous_ino != model->previous_ino)) same = false;
      if (model == nullptr) model = &m;
    }
    if (!same || model == nullptr || !linked.claim(model->previous_ino)) continue;
    const fs::path from(model->rel);
    UniqueFd from_dir(open_beneath(prev_root, from.parent_path().empty() ? "." : from.parent_path().string(),
                                   O_PATH | O_DIRECTORY));
    if (!from_dir) continue;
    for (const GroupMember& m : group.members) {
      const fs::path to(m.rel);
      UniqueFd to_dir(open_beneath(dst_root, to.parent_path().empty() ? "." : to.parent_path().string(),
                                   O_PATH | O_DIRECTORY));
      if (!to_dir) throw_errno("cannot open " + to.parent_path().string());
      if (::linkat(from_dir.get(), from.filename().c_str(), to_dir.get(), to.filename().c_str(), 0) == 0) ++done;
      else if (errno != EEXIST && errno != EMLINK) throw_errno("cannot link " + (previous / model->rel).string());
    }
  }
  return done;
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
  LinkGroups groups;
  Linker linker(policy, linked, groups, &top_level);
  linker.mirror(src.get(), prev.get(), dst.get(), source.string(), previous.string(), "");
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  const LinkStats below = run_in_parallel(top_level, policy, linked, groups, threads);
  const uint64_t grouped = link_groups(groups, linked, prev.get(), dst.get(), previous);
  return {linker.stats.linked + below.linked + grouped, 1 + linker.stats.directories + below.directories};
}

}  // namespace bkp
