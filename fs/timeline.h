// The virtual tree bkpfs shows above the snapshots (see ../shared/contract.md):
//
//   latest -> by-date/<newest>            by-date/<snapshot>/...
//   by-series/<first snapshot>/<snapshot>/...   by-series/current -> <first of series 0>
//
//   versions/<source>/<path>/<snapshot>[.ext]   changes/<snapshot>/<source>/...
//
// A Timeline is an immutable picture of it built from one scan of DEST. Requests read the
// current picture through a shared_ptr; the TimelineWatcher swaps in a new one when DEST
// changes, so a request never rescans and never sees a half-built tree.
#pragma once

#include <atomic>
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
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bkp {
struct Destination;
}

namespace bkpfs {

// One entry of the virtual tree. Below a `snapshot` entry is the real snapshot folder;
// below `versions` and `changes` entries the history views (versions.h, changes.h).
enum class ViewType : std::uint8_t {
  dir,       // a virtual directory: `children`, in listing order
  link,      // a relative symlink: `target`
  snapshot,  // the snapshot folder DEST/<series>/<snapshot>
  versions,  // versions/: every version of every path
  changes,   // changes/<snapshot>/: what is new in `snapshot`
};

struct ViewEntry {
  ViewType type = ViewType::dir;
  std::vector<std::string> children;
  std::string target;
  std::string snapshot;
  bool operator==(const ViewEntry&) const = default;
};

// The whole virtual tree as data, from path ("" is the root, "by-date/<snapshot>") to
// entry, as restic's snapshots_dirstruct builds it: one map instead of a switch per view.
using ViewTree = std::map<std::string, ViewEntry, std::less<>>;

struct SnapshotRef {
  std::string name;    // e.g. 2026-11-20_02:00:00
  std::string series;  // its series folder, relative to DEST: "0" or a timestamp
  // Its journal records that none of its sources had an extended attribute or ACL
  // (`xattrs = false`); false when the journal says otherwise or nothing (older runs).
  bool without_xattrs = false;
  bool operator==(const SnapshotRef&) const = default;
};

class Timeline {
 public:
  static std::shared_ptr<const Timeline> build(const bkp::Destination& dest);

  const ViewTree& views() const { return views_; }
  const ViewEntry* view(std::string_view path) const;
  // Every complete snapshot of every series, oldest first.
  const std::vector<SnapshotRef>& snapshots() const { return snapshots_; }
  // Folder (relative to DEST) of the series holding the complete snapshot `name`.
  std::optional<std::string> series_of(const std::string& snapshot) const;
  // The complete snapshot just before `snapshot` by time (across series), if any.
  std::optional<std::string> previous_of(const std::string& snapshot) const;
  // Its position in snapshots(), or nullopt.
  std::optional<std::size_t> index_of(const std::string& snapshot) const;
  // True when complete snapshot `name` is recorded without xattrs (SnapshotRef).
  bool known_without_xattrs(const std::string& name) const;

  bool operator==(const Timeline& other) const { return snapshots_ == other.snapshots_ && views_ == other.views_; }

  std::time_t newest_time() const { return newest_time_; }
  // Unique per built timeline: caches of what was computed from one are keyed by it.
  std::uint64_t serial() const { return serial_; }
  std::size_t snapshot_count() const { return snapshots_.size(); }
  std::size_t series_count() const { return series_count_; }

 private:
  std::vector<SnapshotRef> snapshots_;  // sorted by name (= time)
  ViewTree views_;
  std::size_t series_count_ = 0;
  std::time_t newest_time_ = 0;
  std::uint64_t serial_ = 0;
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
  // How many periodic checks of DEST have finished (each one after its change, if any, was
  // applied): two more than before a change to DEST mean bkpfs has seen that change.
  std::uint64_t checks() const { return checks_.load(); }
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
  std::atomic<std::uint64_t> checks_{0};
};

}  // namespace bkpfs
