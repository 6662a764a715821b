#include "verification.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "beneath.h"
#include "checksum_record.h"
#include "errors.h"
#include "unique_fd.h"
#include "walker.h"
#include "xattrs.h"

namespace fs = std::filesystem;

namespace bkp {

Subset Subset::parse(const std::string& text) {
  const auto refuse = [&] {
    return UsageError("--subset " + text + ": expected K/N (1 <= K <= N, e.g. 3/30) or P% (0 < P <= 100, e.g. 5%)");
  };
  Subset s;
  char* end = nullptr;
  if (!text.empty() && text.back() == '%') {
    s.percent = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() - 1 || !(s.percent > 0 && s.percent <= 100)) throw refuse();
    if (s.percent == 100) s.percent = 0;  // everything
    return s;
  }
  const size_t slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || text.find('/', slash + 1) != std::string::npos ||
      text.find_first_not_of("0123456789/") != std::string::npos)
    throw refuse();
  const unsigned long k = std::strtoul(text.substr(0, slash).c_str(), nullptr, 10);
  const std::string n_text = text.substr(slash + 1);
  if (n_text.empty() || n_text.size() > 9 || slash > 9) throw refuse();
  const unsigned long n = std::strtoul(n_text.c_str(), nullptr, 10);
  if (k < 1 || n < 1 || k > n) throw refuse();
  s.k = static_cast<unsigned>(k);
  s.n = static_cast<unsigned>(n);
  return s;
}

bool Subset::selects(ino_t ino, std::mt19937_64& random) const {
  if (percent > 0) return std::uniform_real_distribution<double>(0, 100)(random) < percent;
  if (n == 1) return true;
  // A hash, not the number itself: filesystems hand out inode numbers in patterns.
  const uint64_t number = static_cast<uint64_t>(ino);
  return XXH3_64bits(&number, sizeof number) % n == k - 1;
}

std::string Subset::describe() const {
  if (percent > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%%", percent);
    return buf;
  }
  return n == 1 ? "all" : std::to_string(k) + "/" + std::to_string(n);
}

fs::path Holder::relative() const { return fs::path(snapshot->series) / snapshot->name / path; }

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct InodeKey {
  dev_t dev;
  ino_t ino;
  bool operator==(const InodeKey&) const = default;
  bool operator<(const InodeKey& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};
struct InodeKeyHash {
  size_t operator()(const InodeKey& k) const { return std::hash<uint64_t>()(k.ino * 31 + k.dev); }
};

// What the walks found about one inode.
struct Inode {
  std::string path;                  // its name in snaps (the first one seen)
  std::vector<uint32_t> snaps;       // snapshots that hold it under `path`
  std::vector<std::pair<uint32_t, std::string>> others;  // ... under another name
  std::vector<Checksum> recorded;    // distinct checksums records give it (usually one)
  bool to_record = false;            // a snapshot that gets a record now holds it
};

class Verifier {
 public:
  Verifier(const Destination& dest, const std::vector<const Snapshot*>& snapshots, const VerifyOptions& options)
      : dest_(dest), options_(options) {
    for (const Snapshot* s : snapshots) report_.snapshots.push_back({s});
  }

  VerifyReport run() {
    // One snapshot at a time, its record dropped after its walk: what the walks keep is
    // per inode, so a thousand snapshots of 50,000 files do not hold a thousand records.
    for (uint32_t i = 0; i < report_.snapshots.size(); ++i) {
      load(i);
      walk(i);
      records_.erase(report_.snapshots[i].snapshot);
    }
    read_selected();
    write_records();
    for (auto& [key, finding] : missing_) findings_missing_.push_back(std::move(finding));
    forget_vanished_snapshots();
    for (Finding& f : damaged_) advise(f);
    for (Finding& f : unreadable_) advise(f);
    for (Finding& f : findings_missing_) advise(f);
    for (auto* list : {&damaged_, &unreadable_, &findings_missing_})
      for (Finding& f : *list) report_.findings.push_back(std::move(f));
    report_.inodes = inodes_.size();
    return std::move(report_);
  }

 private:
  int series_fd(const std::string& folder) {
    auto found = series_fds_.find(folder);
    if (found != series_fds_.end()) return found->second.get();
    UniqueFd fd(::open((dest_.root / folder).c_str(), kDirFlags));
    if (!fd) throw_errno("cannot open " + (dest_.root / folder).string());
    return series_fds_.emplace(folder, std::move(fd)).first->second.get();
  }

  // Snapshot folders are opened for one walk and closed again, and files reached as
  // <snapshot>/<path> from their series' descriptor: a destination may hold more snapshots
  // than a process may hold descriptors.

  // The record of any snapshot of the destination (nullptr if none or unusable), kept until
  // erased from records_ (then read again if asked for).
  const ChecksumRecord* record_of(const Snapshot& s, std::string* problem = nullptr) {
    auto found = records_.find(&s);
    if (found == records_.end()) {
      std::optional<ChecksumRecord> record;
      std::string why;
      try {
        std::vector<std::string> problems;
        record = read_checksum_record(series_fd(s.series), s.name, &problems);
        if (!record) absent_.insert(&s);
        if (!record && s.journal.count("checksum_record"))
          why = "its record " + s.journal.at("checksum_record") + " is gone (the run that made the snapshot wrote one)";
        else if (!record)
          why = "no checksum record (made by the original bkp.py or an older bkp)";
        if (reported_.insert(&s).second)
          for (const std::string& p : problems)
            report_.record_problems.push_back((fs::path(s.series) / kChecksumDir / checksum_record_name(s.name)).string() +
                                              ": " + p);
      } catch (const std::system_error& e) {
        why = (fs::path(s.series) / e.what()).string();
      }
      found = records_.emplace(&s, std::move(record)).first;
      problems_[&s] = why;
    }
    if (problem != nullptr) *problem = problems_[&s];
    return found->second ? &*found->second : nullptr;
  }

  void load(uint32_t i) {
    SnapshotCheck& check = report_.snapshots[i];
    check.had_record = record_of(*check.snapshot, &check.problem) != nullptr;
    struct stat st {};
    UniqueFd fd(::openat(series_fd(check.snapshot->series), check.snapshot->name.c_str(), kDirFlags));
    if (!fd && errno != ENOENT) throw_errno("cannot open " + check.snapshot->path.string());
    if (fd && ::fstat(fd.get(), &st) != 0) throw_errno("cannot stat " + check.snapshot->path.string());
    devices_.push_back(fd ? st.st_dev : 0);  // 0: removed since the scan (see forget_vanished_snapshots)
  }

  bool gets_record(uint32_t i) const {
    const SnapshotCheck& c = report_.snapshots[i];
    return options_.record && !c.had_record && absent_.count(c.snapshot);  // never over an unreadable one
  }

  void walk(uint32_t i) {
    const Snapshot& snap = *report_.snapshots[i].snapshot;
    const ChecksumRecord* record = record_of(snap);
    std::vector<bool> seen(record ? record->size() : 0, false);
    std::vector<std::pair<std::string, int>> unreadable_dirs;
    const bool recording = gets_record(i);
    UniqueFd root(::openat(series_fd(snap.series), snap.name.c_str(), kDirFlags));
    if (!root && errno != ENOENT) throw_errno("cannot open " + snap.path.string());
    // Recording an older snapshot: also look for xattrs, on every entry and the folder itself.
    bool without_xattrs = recording && root && !snap.journal.count("xattrs") &&
                          seen_without_xattrs(series_fd(snap.series), snap.name.c_str());
    if (root) walk_tree(root.get(),
              {.enter =
                   [&](const WalkEntry& e) {
                     if (without_xattrs && !seen_without_xattrs(e.dir_fd, e.name)) without_xattrs = false;
                     if (!S_ISREG(e.st.st_mode)) return Visit::descend;
                     Inode& node = inodes_[{devices_[i], e.st.st_ino}];
                     if (node.snaps.empty()) node.path = e.path;
                     if (e.path == node.path) node.snaps.push_back(i);
                     else node.others.emplace_back(i, e.path);
                     node.to_record = node.to_record || recording;
                     if (record == nullptr) return Visit::descend;
                     const long at = record->index_of(e.path);
                     if (at < 0) {
                       ++report_.unrecorded;
                       return Visit::descend;
                     }
                     seen[static_cast<size_t>(at)] = true;
                     const Checksum& sum = record->entries()[static_cast<size_t>(at)].sum;
                     if (std::find(node.recorded.begin(), node.recorded.end(), sum) == node.recorded.end())
                       node.recorded.push_back(sum);
                     return Visit::descend;
                   },
               .error = [&](const std::string& path, int err) { unreadable_dirs.emplace_back(path, err); }},
              {.stat = false});
    report_.snapshots[i].seen_without_xattrs = without_xattrs && unreadable_dirs.empty();
    if (record == nullptr) return;
    // Recorded, not found: missing, or below a folder that could not be read.
    for (size_t at = 0; at < seen.size(); ++at) {
      if (seen[at]) continue;
      const RecordEntry& entry = record->entries()[at];
      int error = 0;
      for (const auto& [dir, err] : unreadable_dirs)
        if (entry.path == dir || (entry.path.size() > dir.size() && entry.path.compare(0, dir.size(), dir) == 0 &&
                                  entry.path[dir.size()] == '/'))
          error = err;
      Finding& f = missing_[{entry.path, entry.sum.hex(), error}];
      f.problem = error != 0 ? Problem::unreadable : Problem::missing;
      f.error = error;
      f.expected = entry.sum;
      f.holders.push_back({&snap, entry.path});
    }
  }

  std::vector<Holder> holders_of(const Inode& node) const {
    std::vector<Holder> out;
    for (uint32_t s : node.snaps) out.push_back({report_.snapshots[s].snapshot, node.path});
    for (const auto& [s, path] : node.others) out.push_back({report_.snapshots[s].snapshot, path});
    return out;
  }

  void read_selected() {
    std::mt19937_64 random(std::random_device{}());
    std::vector<std::pair<InodeKey, Inode*>> selected;
    for (auto& [key, node] : inodes_)
      if (node.to_record || (!node.recorded.empty() && options_.subset.selects(key.ino, random)))
        selected.emplace_back(key, &node);
    // In inode order: on most filesystems close to the order of the data on the disk.
    std::sort(selected.begin(), selected.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<HashTask> tasks;
    tasks.reserve(selected.size());
    for (const auto& [key, node] : selected) {
      const Snapshot& holder = *report_.snapshots[node->snaps.front()].snapshot;
      tasks.push_back({series_fd(holder.series), holder.name + "/" + node->path});
    }

    VerifyProgress progress{0, tasks.size(), 0};
    std::atomic<uint64_t> files{0}, bytes{0};
    std::mutex progress_mutex;
    auto last = std::chrono::steady_clock::now();
    const auto results = hash_files(tasks, options_.hash, [&](size_t, const HashResult& r) {
      files += 1;
      bytes += r.bytes;
      if (!options_.progress) return;
      std::unique_lock lock(progress_mutex, std::try_to_lock);
      const auto now = std::chrono::steady_clock::now();
      if (!lock || now - last < std::chrono::milliseconds(200)) return;
      last = now;
      progress.files_done = files;
      progress.bytes_done = bytes;
      options_.progress(progress);
    });
    if (options_.progress) options_.progress({files, tasks.size(), bytes});
    report_.files_read = files;
    report_.bytes_read = bytes;

    for (size_t t = 0; t < selected.size(); ++t) {
      const auto& [key, node] = selected[t];
      const HashResult& r = results[t];
      if (!r.sum) {
        unreadable_.push_back({Problem::unreadable, holders_of(*node),
                               node->recorded.empty() ? std::nullopt : std::optional(node->recorded.front()), std::nullopt,
                               r.error, std::nullopt, std::pair(key.dev, key.ino)});
        continue;
      }
      for (const Checksum& expected : node->recorded)
        if (expected != *r.sum) {
          damaged_.push_back({Problem::damaged, holders_of(*node), expected, r.sum, 0, std::nullopt,
                              std::pair(key.dev, key.ino)});
          break;
        }
      if (node->to_record) read_sums_.emplace(node, *r.sum);
    }
  }

  void write_records() {
    if (!options_.record) return;
    std::vector<ChecksumRecord> records(report_.snapshots.size());
    for (const auto& [node, sum] : read_sums_) {
      for (uint32_t s : node->snaps)
        if (gets_record(s)) records[s].add(node->path, sum);
      for (const auto& [s, path] : node->others)
        if (gets_record(s)) records[s].add(path, sum);
    }
    for (uint32_t s = 0; s < report_.snapshots.size(); ++s) {
      if (!gets_record(s)) continue;
      const Snapshot& snap = *report_.snapshots[s].snapshot;
      write_checksum_record(series_fd(snap.series), snap.name, records[s]);
      report_.snapshots[s].recorded = true;
    }
  }

  // Verify takes no lock (it may run for hours beside backups): a snapshot that a prune
  // removed meanwhile is not missing files, it is gone. Its holders are dropped.
  void forget_vanished_snapshots() {
    const Destination now = Destination::scan(dest_.root);
    std::set<std::pair<std::string, std::string>> complete;
    for (const Snapshot* s : now.complete_snapshots()) complete.emplace(s->series, s->name);
    const auto gone = [&](const Holder& h) { return !complete.count({h.snapshot->series, h.snapshot->name}); };
    for (auto* list : {&damaged_, &unreadable_, &findings_missing_}) {
      for (Finding& f : *list) std::erase_if(f.holders, gone);
      std::erase_if(*list, [](const Finding& f) { return f.holders.empty(); });
    }
  }

  // Looks through every complete snapshot of the destination, newest first, for the same
  // path holding another inode whose record gives it the expected checksum, and reads it.
  void advise(Finding& f) {
    if (!f.expected) return;
    std::vector<std::string> paths;
    for (const Holder& h : f.holders)
      if (std::find(paths.begin(), paths.end(), h.path) == paths.end()) paths.push_back(h.path);
    std::set<std::pair<dev_t, ino_t>> tried;  // an inode linked into many snapshots is read once
    if (f.inode) tried.insert(*f.inode);      // the damaged one itself
    const auto all = dest_.complete_snapshots();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      const Snapshot& snap = **it;
      for (const std::string& path : paths) {
        // The file first (cheap), the record only for an inode not tried yet.
        UniqueFd fd;
        try {
          fd = UniqueFd(open_beneath(series_fd(snap.series), snap.name + "/" + path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        } catch (const std::system_error&) {  // a series that cannot be opened holds no copy
          continue;
        }
        struct stat st {};
        if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !tried.emplace(st.st_dev, st.st_ino).second)
          continue;
        if (records_.size() > 16) records_.clear();  // a bounded cache: findings are few, records large
        const ChecksumRecord* record = record_of(snap);
        const RecordEntry* entry = record != nullptr ? record->find(path) : nullptr;
        if (entry == nullptr || entry->sum != *f.expected || hash_open_file(fd.get()) != f.expected) continue;
        f.undamaged_copy = fs::path(snap.series) / snap.name / path;
        return;
      }
    }
  }

  const Destination& dest_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::vector<dev_t> devices_;
  std::map<std::string, UniqueFd> series_fds_;
  std::set<const Snapshot*> absent_;  // snapshots that have no record file at all
  std::map<const Snapshot*, std::optional<ChecksumRecord>> records_;
  std::map<const Snapshot*, std::string> problems_;
  std::set<const Snapshot*> reported_;  // whose record's problems are in the report
  std::unordered_map<InodeKey, Inode, InodeKeyHash> inodes_;
  std::unordered_map<const Inode*, Checksum> read_sums_;
  std::map<std::tuple<std::string, std::string, int>, Finding> missing_;
  std::vector<Finding> damaged_, unreadable_, findings_missing_;
};

}  // namespace

VerifyReport verify_snapshots(const Destination& dest, const std::vector<const Snapshot*>& snapshots,
                              const VerifyOptions& options) {
  return Verifier(dest, snapshots, options).run();
}

}  // namespace bkp
