#include "timeline.h"

#include <sys/stat.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "journal.h"
#include "store.h"

namespace bkpfs {

namespace {
constexpr const char* kLatest = "latest";
constexpr const char* kByDate = "by-date";
constexpr const char* kBySeries = "by-series";
constexpr const char* kCurrent = "current";
}  // namespace

std::shared_ptr<const Timeline> Timeline::build(const bkp::Destination& dest) {
  auto t = std::make_shared<Timeline>();
  for (const bkp::Series& series : dest.series) {
    SeriesView view{series.folder, {}};
    for (const bkp::Snapshot& snap : series.snapshots) {
      if (!snap.complete) continue;
      t->snapshots_.emplace(snap.name, series.folder);
      view.snapshots.push_back(snap.name);
      if (auto it = snap.journal.find("xattrs"); it != snap.journal.end() && it->second == "false")
        t->without_xattrs_.insert(snap.name);
      if (snap.time >= t->newest_time_) t->newest_time_ = snap.time;
    }
    if (view.snapshots.empty()) continue;
    std::sort(view.snapshots.begin(), view.snapshots.end());
    std::string first = view.snapshots.front();
    if (series.is_current()) t->current_ = first;
    t->series_.emplace(std::move(first), std::move(view));
  }
  if (!t->snapshots_.empty()) t->newest_ = t->snapshots_.rbegin()->first;
  return t;
}

std::optional<std::vector<VirtualEntry>> Timeline::list(Kind dir, const std::string& key) const {
  std::vector<VirtualEntry> out;
  switch (dir) {
    case Kind::Root:
      out.push_back({kByDate, Kind::ByDate, {}});
      out.push_back({kBySeries, Kind::BySeries, {}});
      if (newest_) out.push_back({kLatest, Kind::Latest, {}});
      return out;
    case Kind::ByDate:
      out.reserve(snapshots_.size());
      for (const auto& [name, series] : snapshots_) out.push_back({name, Kind::SnapshotRoot, name});
      return out;
    case Kind::BySeries:
      for (const auto& [first, view] : series_) out.push_back({first, Kind::Series, first});
      if (current_) out.push_back({kCurrent, Kind::Current, {}});
      return out;
    case Kind::Series: {
      auto it = series_.find(key);
      if (it == series_.end()) return std::nullopt;
      for (const std::string& name : it->second.snapshots) out.push_back({name, Kind::SnapshotRoot, name});
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<VirtualEntry> Timeline::find(Kind dir, const std::string& key, std::string_view name) const {
  const std::string n(name);
  switch (dir) {
    case Kind::Root:
      if (n == kByDate) return VirtualEntry{n, Kind::ByDate, {}};
      if (n == kBySeries) return VirtualEntry{n, Kind::BySeries, {}};
      if (n == kLatest && newest_) return VirtualEntry{n, Kind::Latest, {}};
      return std::nullopt;
    case Kind::ByDate:
      if (snapshots_.count(n)) return VirtualEntry{n, Kind::SnapshotRoot, n};
      return std::nullopt;
    case Kind::BySeries:
      if (n == kCurrent && current_) return VirtualEntry{n, Kind::Current, {}};
      if (series_.count(n)) return VirtualEntry{n, Kind::Series, n};
      return std::nullopt;
    case Kind::Series: {
      auto it = series_.find(key);
      if (it == series_.end()) return std::nullopt;
      const auto& snaps = it->second.snapshots;
      if (std::binary_search(snaps.begin(), snaps.end(), n)) return VirtualEntry{n, Kind::SnapshotRoot, n};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> Timeline::link_target(Kind link) const {
  if (link == Kind::Latest && newest_) return std::string(kByDate) + "/" + *newest_;
  if (link == Kind::Current && current_) return *current_;
  return std::nullopt;
}

bool Timeline::operator==(const Timeline& other) const {
  return snapshots_ == other.snapshots_ && series_ == other.series_ && newest_ == other.newest_ &&
         current_ == other.current_ && without_xattrs_ == other.without_xattrs_;
}

std::optional<std::string> Timeline::series_of(const std::string& snapshot) const {
  auto it = snapshots_.find(snapshot);
  if (it == snapshots_.end()) return std::nullopt;
  return it->second;
}

TimelineWatcher::TimelineWatcher(std::filesystem::path dest) : dest_(std::move(dest)) {
  refresh();
}

TimelineWatcher::~TimelineWatcher() { stop(); }

std::shared_ptr<const Timeline> TimelineWatcher::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

namespace {
// Appends what identifies one version of `path`: a rewrite, rename or removal changes it.
void add_stamp(std::string& sig, const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    sig += "-;";
    return;
  }
  // nlink too: a snapshot folder made or removed within one timestamp tick still counts.
  sig += std::to_string(st.st_ino) + ':' + std::to_string(st.st_size) + ':' + std::to_string(st.st_nlink) + ':' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + ';';
}
}  // namespace

std::string TimelineWatcher::signature(const std::vector<std::string>& series_folders) const {
  std::string sig;
  add_stamp(sig, dest_);
  add_stamp(sig, dest_ / bkp::kCurrentSeries);
  add_stamp(sig, dest_ / bkp::kCurrentSeries / bkp::kJournalFile);
  for (const std::string& folder : series_folders) {
    add_stamp(sig, dest_ / folder);
    add_stamp(sig, dest_ / folder / bkp::kJournalFile);
  }
  return sig;
}

bool TimelineWatcher::refresh() {
  std::vector<std::string> folders;
  std::string last;
  bool scanned = false;
  {
    std::lock_guard lock(mutex_);
    folders = series_folders_;
    last = signature_;
    scanned = current_ != nullptr;
  }
  if (scanned && signature(folders) == last) return false;
  // Stamps are taken before the scan, over the series folders the scan finds: a change
  // during the scan then shows as a different signature at the next check, never lost.
  for (int attempt = 0;; ++attempt) {
    std::string sig = signature(folders);
    bkp::Destination dest = bkp::Destination::scan(dest_);
    std::vector<std::string> found;
    for (const bkp::Series& s : dest.series) found.push_back(s.folder);
    if (found != folders && attempt < 3) {  // series appeared or went: stamp those and rescan
      folders = std::move(found);
      continue;
    }
    auto timeline = Timeline::build(dest);
    std::lock_guard lock(mutex_);
    signature_ = std::move(sig);
    series_folders_ = std::move(folders);
    // A rewritten journal that changes nothing visible (a new key, an [ACTIVE] run starting)
    // is no change: the kernel keeps everything it cached.
    if (current_ && *current_ == *timeline) return false;
    const bool first = !current_;
    current_ = std::move(timeline);
    return !first;
  }
}

void TimelineWatcher::start(std::chrono::milliseconds period, OnChange on_change) {
  stop();
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this, period, on_change = std::move(on_change)] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      try {
        auto before = current();
        if (refresh() && on_change) on_change(*before, *current());
      } catch (const std::exception& e) {
        // DEST may be briefly unreadable (a rename in progress, a disk hiccup): keep
        // showing the last good timeline and try again at the next tick.
        spdlog::warn("cannot rescan {}: {}", dest_.string(), e.what());
      }
      lock.lock();
    }
  });
}

void TimelineWatcher::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace bkpfs
