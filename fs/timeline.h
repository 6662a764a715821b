// The virtual tree bkpfs shows above the snapshots (see ../shared/contract.md):
//
//   latest -> by-date/<newest>            by-date/<snapshot>/...
//   by-series/<first snapshot>/<snapshot>/...   by-series/current -> <first of series 0>
//
// A Timeline is an immutable picture of it built from one scan of DEST. Requests read the
// current picture through a shared_ptr; the TimelineWatcher swaps in a new one when DEST
// changes, so a request never rescans and never sees a half-built tree. More virtual trees
// (versions/, changes/) are added as more Kinds answered by list()/find().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bkp {
struct Destination;
}

namespace bkpfs {

// What a node is. Everything but SnapshotRoot and Content is virtual (made up by bkpfs);
// a SnapshotRoot is the real folder DEST/<series>/<snapshot>, Content anything below it.
enum class Kind : std::uint8_t {
  Root, ByDate, BySeries, Series, Latest, Current, SnapshotRoot, Content
};

inline bool is_virtual_dir(Kind k) {
  return k == Kind::Root || k == Kind::ByDate || k == Kind::BySeries || k == Kind::Series;
}
inline bool is_virtual_link(Kind k) { return k == Kind::Latest || k == Kind::Current; }

// One entry of a virtual directory. `key` names what the entry stands for (a snapshot
// for SnapshotRoot, a series' first snapshot for Series).
struct VirtualEntry {
  std::string name;
  Kind kind;
  std::string key;
};

class Timeline {
 public:
  static std::shared_ptr<const Timeline> build(const bkp::Destination& dest);

  // Children of the virtual directory (kind, key) in listing order; nullopt when that
  // directory is gone (a series removed since the kernel looked it up).
  std::optional<std::vector<VirtualEntry>> list(Kind dir, const std::string& key) const;
  std::optional<VirtualEntry> find(Kind dir, const std::string& key, std::string_view name) const;
  // Target of `latest` or `by-series/current`, relative to the link's folder.
  std::optional<std::string> link_target(Kind link) const;
  // Folder (relative to DEST) of the series holding the complete snapshot `name`.
  std::optional<std::string> series_of(const std::string& snapshot) const;
  // True when the journal of complete snapshot `name` records that none of its sources had
  // an extended attribute or ACL (`xattrs = false`); false when it says otherwise or nothing.
  bool known_without_xattrs(const std::string& name) const { return without_xattrs_.count(name) > 0; }

  bool operator==(const Timeline& other) const;

  std::time_t newest_time() const { return newest_time_; }
  std::size_t snapshot_count() const { return snapshots_.size(); }
  std::size_t series_count() const { return series_.size(); }

 private:
  struct SeriesView {
    std::string folder;                  // "0" or a timestamp, relative to DEST
    std::vector<std::string> snapshots;  // complete ones, sorted
    bool operator==(const SeriesView&) const = default;
  };
  std::map<std::string, std::string> snapshots_;  // complete snapshot -> series folder
  std::map<std::string, SeriesView> series_;      // first complete snapshot -> series
  std::optional<std::string> newest_;
  std::optional<std::string> current_;            // first complete snapshot of series 0
  std::time_t newest_time_ = 0;
  std::set<std::string> without_xattrs_;          // see known_without_xattrs()
};

// Keeps the current Timeline of DEST and rebuilds it when DEST changes. A change is
// noticed from the mtime/inode/size of DEST, of each series folder and of each cfg.ini
// (cfg.ini is replaced by rename, a snapshot folder appears or goes), checked by a
// background thread every `period` — never per request and never by opening snapshots.
class TimelineWatcher {
 public:
  using OnChange = std::function<void(const Timeline& before, const Timeline& after)>;

  // Scans DEST once; throws std::system_error when it cannot be read.
  explicit TimelineWatcher(std::filesystem::path dest);
  ~TimelineWatcher();
  TimelineWatcher(const TimelineWatcher&) = delete;
  TimelineWatcher& operator=(const TimelineWatcher&) = delete;

  std::shared_ptr<const Timeline> current() const;
  // Rescans if DEST changed since the last check; true when the timeline was replaced.
  bool refresh();
  void start(std::chrono::milliseconds period, OnChange on_change);
  void stop();

 private:
  std::string signature(const std::vector<std::string>& series_folders) const;

  const std::filesystem::path dest_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Timeline> current_;
  std::vector<std::string> series_folders_;  // from the last scan, for signature()
  std::string signature_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bkpfs
