#include "snapshot_checksums.h"

#include <sys/stat.h>

#include <algorithm>
#include <future>
#include <unordered_map>
#include <utility>

#include "walker.h"

namespace bkp {
namespace {

struct FileName {
  std::string path;
  ino_t ino;
};

// Every regular file below `root_fd` with its inode number, from readdir alone, sorted by
// path (the order of a record).
std::vector<FileName> regular_files(int root_fd) {
  std::vector<FileName> out;
  walk_tree(root_fd, {.enter = [&](const WalkEntry& e) {
    if (S_ISREG(e.st.st_mode)) out.push_back({e.path, e.st.st_ino});
    return Visit::descend;
  }}, {.stat = false});
  std::sort(out.begin(), out.end(), [](const FileName& a, const FileName& b) { return a.path < b.path; });
  return out;
}

// Calls `both(a, b)` for each element of `a` whose path is also in `b`; both sorted by path.
template <class A, class B, class F>
void for_each_same_path(const A& a, const B& b, F&& both) {
  auto j = b.begin();
  for (const auto& x : a) {
    while (j != b.end() && j->path < x.path) ++j;
    if (j == b.end()) return;
    if (j->path == x.path) both(x, *j);
  }
}

}  // namespace

ChecksumRecord checksum_snapshot(int snapshot_fd, int previous_fd,
                                 const std::function<std::optional<ChecksumRecord>()>& load_previous,
                                 const ChecksumsByPath& written, RecordStats& stats, const HashOptions& options) {
  // The previous record, and the previous snapshot's files: read and walked beside the
  // walk of the new tree (three threads: parsing the record takes about as long as a walk).
  const bool has_previous = previous_fd >= 0 && load_previous;
  auto previous_record = std::async(std::launch::async, [&] { return has_previous ? load_previous() : std::nullopt; });
  auto previous_files = std::async(std::launch::async, [&] {
    return has_previous ? regular_files(previous_fd) : std::vector<FileName>();
  });
  const std::vector<FileName> files = regular_files(snapshot_fd);
  const std::optional<ChecksumRecord> before = previous_record.get();
  const std::vector<FileName> before_files = previous_files.get();
  // Inode -> checksum of the files the increment linked: the same inode at the same path
  // in the previous snapshot, whose record has that path. All three lists are sorted by
  // path: one pass over each.
  std::unordered_map<ino_t, Checksum> known(files.size());
  if (before && !before->empty()) {
    struct Recorded {
      const std::string& path;
      ino_t ino;
      const Checksum& sum;
    };
    std::vector<Recorded> recorded;  // the previous snapshot's files that its record holds
    recorded.reserve(before_files.size());
    for_each_same_path(before_files, before->entries(), [&](const FileName& f, const RecordEntry& e) {
      recorded.push_back({f.path, f.ino, e.sum});
    });
    for_each_same_path(files, recorded, [&](const FileName& f, const Recorded& r) {
      if (r.ino == f.ino) known.emplace(f.ino, r.sum);
    });
  }
  // Then what rsync wrote: a name of an inode is enough, as for the links above.
  if (!written.empty())
    for (const FileName& f : files)
      if (const auto w = written.find(f.path); w != written.end() && known.emplace(f.ino, w->second).second)
        ++stats.from_rsync;
  // The other inodes are read once each, however many names they have here.
  std::unordered_map<ino_t, size_t> task_of;
  std::vector<HashTask> tasks;
  std::vector<ino_t> task_ino;
  for (const FileName& f : files)
    if (!known.count(f.ino) && task_of.emplace(f.ino, tasks.size()).second) {
      tasks.push_back({snapshot_fd, f.path});
      task_ino.push_back(f.ino);
    }
  const std::vector<HashResult> results = hash_files(tasks, options);
  std::unordered_map<ino_t, int> failed;  // inode -> errno
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (results[t].sum) {
      known.emplace(task_ino[t], *results[t].sum);
      ++stats.hashed;
      stats.hashed_bytes += results[t].bytes;
    } else {
      failed.emplace(task_ino[t], results[t].error);
    }
  }
  ChecksumRecord record;
  record.reserve(files.size());
  for (const FileName& f : files) {
    if (const auto found = known.find(f.ino); found != known.end()) {
      record.add(f.path, found->second);
      ++stats.files;
    } else {
      stats.unreadable.push_back(f.path);
    }
  }
  return record;
}

}  // namespace bkp
