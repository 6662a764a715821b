#include "timeline.h"

#include <sys/stat.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "journal.h"
#include "store.h"

namespace bkpfs {

std::shared_ptr<const Timeline> Timeline::build(const bkp::Destination& dest) {
  static std::atomic<std::uint64_t> serials{0};
  auto t = std::make_shared<Timeline>();
  t->serial_ = ++serials;
  ViewTree& v = t->views_;
  // Series by their first complete snapshot; the current one is 0/, or during a full run
  // (0/ renamed, the new 0/ without a complete snapshot yet) the one holding the newest.
  std::map<std::string, std::vector<std::string>> series;
  std::optional<std::string> current;
  for (const bkp::Series& s : dest.series) {
    std::vector<std::string> names;
    for (const bkp::Snapshot& snap : s.snapshots) {
      if (!snap.complete) continue;
      const auto xattrs = snap.journal.find("xattrs");
      t->snapshots_.push_back({snap.name, s.folder, xattrs != snap.journal.end() && xattrs->second == "false"});
      names.push_back(snap.name);
      if (snap.time >= t->newest_time_) t->newest_time_ = snap.time;
    }
    if (names.empty()) continue;
    std::sort(names.begin(), names.end());
    if (s.is_current()) current = names.front();
    series.emplace(names.front(), std::move(names));
  }
  std::sort(t->snapshots_.begin(), t->snapshots_.end(),
            [](const SnapshotRef& a, const SnapshotRef& b) { return a.name < b.name; });
  t->series_count_ = series.size();
  std::optional<std::string> newest;
  if (!t->snapshots_.empty()) newest = t->snapshots_.back().name;
  if (!current && newest)
    for (const auto& [first, names] : series)
      if (names.back() == *newest) current = first;

  ViewEntry& root = v[""];
  root.children = {"by-date", "by-series", "changes"};
  if (newest) root.children.push_back("latest");
  root.children.push_back("versions");
  ViewEntry& by_date = v["by-date"];
  ViewEntry& changes = v["changes"];
  for (const SnapshotRef& s : t->snapshots_) {
    by_date.children.push_back(s.name);
    changes.children.push_back(s.name);
    v["by-date/" + s.name] = {ViewType::snapshot, {}, {}, s.name};
    v["changes/" + s.name] = {ViewType::changes, {}, {}, s.name};
  }
  ViewEntry& by_series = v["by-series"];
  for (const auto& [first, names] : series) {
    by_series.children.push_back(first);
    v["by-series/" + first].children = names;
    for (const std::string& name : names) v["by-series/" + first + "/" + name] = {ViewType::snapshot, {}, {}, name};
  }
  if (current) {
    by_series.children.push_back("current");
    v["by-series/current"] = {ViewType::link, {}, *current, {}};
  }
  if (newest) v["latest"] = {ViewType::link, {}, "by-date/" + *newest, {}};
  v["versions"] = {ViewType::versions, {}, {}, {}};
  return t;
}

const ViewEntry* Timeline::view(std::string_view path) const {
  auto it = views_.find(path);
  return it == views_.end() ? nullptr : &it->second;
}

std::optional<std::size_t> Timeline::index_of(const std::string& snapshot) const {
  auto it = std::lower_bound(snapshots_.begin(), snapshots_.end(), snapshot,
                             [](const SnapshotRef& s, const std::string& name) { return s.name < name; });
  if (it == snapshots_.end() || it->name != snapshot) return std::nullopt;
  return static_cast<std::size_t>(it - snapshots_.begin());
}

std::optional<std::string> Timeline::series_of(const std::string& snapshot) const {
  if (auto i = index_of(snapshot)) return snapshots_[*i].series;
  return std::nullopt;
}

bool Timeline::known_without_xattrs(const std::string& snapshot) const {
  auto i = index_of(snapshot);
  return i && snapshots_[*i].without_xattrs;
}

std::optional<std::string> Timeline::previous_of(const std::string& snapshot) const {
  auto i = index_of(snapshot);
  if (!i || *i == 0) return std::nullopt;
  return snapshots_[*i - 1].name;
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
      ++checks_;
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
