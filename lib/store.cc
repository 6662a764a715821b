#include "store.h"

#include <algorithm>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "journal.h"
#include "snapshot_removal.h"
#include "timestamp.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

bool is_dir_nofollow(const fs::path& p) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() == fs::file_type::directory;
}

// The type readdir reported, so scanning thousands of snapshots costs no stat each;
// asks the filesystem only where readdir could not tell.
bool is_dir_nofollow(const fs::directory_entry& entry) {
  std::error_code ec;
  return !entry.is_symlink(ec) && entry.is_directory(ec);
}

bool has_journal(const fs::path& series_dir) {
  std::error_code ec;
  return fs::symlink_status(series_dir / kJournalFile, ec).type() == fs::file_type::regular;
}

bool holds_snapshot_folders(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_timestamp_name(it->path().filename().string()) && is_dir_nofollow(*it)) return true;
  return false;
}

Series scan_series(const fs::path& dir, std::string folder) {
  Series series{std::move(folder), dir, {}};
  Journal journal;
  try {
    journal = Journal::read(dir);
    series.has_journal = journal.exists();
  } catch (const std::system_error& e) {  // unreadable: every folder of it is unknown
    series.has_journal = true;
    series.problems.push_back(e.what());
  }
  series.problems.insert(series.problems.end(), journal.problems().begin(), journal.problems().end());
  const std::optional<std::string> active = journal.active_snapshot();
  // Indexed once: a series may hold thousands of snapshots, and a lookup per folder in
  // the section list would make the scan quadratic.
  std::unordered_map<std::string_view, const IniSection*> sections;
  for (const auto& section : journal.sections()) sections.emplace(section.name(), &section);
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kReusablePrefix) && is_dir_nofollow(entry)) series.reusable_partials.push_back(name);
    if (name.starts_with(kRemovingPrefix)) series.being_removed.push_back(name);
    const auto when = parse_timestamp(name);
    if (!when || !is_dir_nofollow(entry)) continue;
    Snapshot snap{name, series.folder, entry.path(), *when};
    snap.complete = journal.is_complete(name);
    snap.partial = !snap.complete && active == name;
    snap.pinned = snap.complete && journal.is_pinned(name);
    if (const auto found = sections.find(name); found != sections.end()) {
      for (const auto& [key, value] : found->second->entries()) snap.journal[key] = value;
      snap.failed = !snap.complete && !snap.partial && is_known_status(found->second->get_or("status", ""));
    }
    series.snapshots.push_back(std::move(snap));
  }
  std::sort(series.snapshots.begin(), series.snapshots.end(),
            [](const Snapshot& a, const Snapshot& b) { return a.name < b.name; });
  std::sort(series.reusable_partials.begin(), series.reusable_partials.end());
  if (!series.has_journal && !series.snapshots.empty())
    series.problems.push_back((dir / kJournalFile).string() + ": missing, beside " +
                              std::to_string(series.snapshots.size()) + " snapshot folders");
  return series;
}

}  // namespace

const Snapshot* Series::newest_complete() const {
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it)
    if (it->complete) return &*it;
  return nullptr;
}

const Snapshot* Series::first_complete() const {
  for (const auto& snap : snapshots)
    if (snap.complete) return &snap;
  return nullptr;
}

std::vector<const Snapshot*> Series::partials() const {
  std::vector<const Snapshot*> out;
  for (const auto& snap : snapshots)
    if (snap.partial) out.push_back(&snap);
  return out;
}

std::vector<const Snapshot*> Series::unknowns() const {
  std::vector<const Snapshot*> out;
  for (const auto& snap : snapshots)
    if (snap.unknown()) out.push_back(&snap);
  return out;
}

std::vector<std::string> Series::faults() const {
  std::vector<std::string> out = problems;
  for (const Snapshot* snap : unknowns())
    out.push_back(snap->path.string() + ": the journal does not account for this folder (not complete, not the interrupted run)");
  return out;
}

Destination Destination::scan(const fs::path& root) {
  Destination dest{root, {}};
  std::vector<Series> older;
  std::optional<Series> current;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if (!is_dir_nofollow(entry)) continue;
    if (name.starts_with(kRemovingPrefix)) dest.being_removed.push_back(name);
    if (name != kCurrentSeries && !is_timestamp_name(name)) continue;
    if (!has_journal(entry.path()) && !holds_snapshot_folders(entry.path())) continue;
    if (name == kCurrentSeries)
      current = scan_series(entry.path(), name);
    else
      older.push_back(scan_series(entry.path(), name));
  }
  std::sort(older.begin(), older.end(),
            [](const Series& a, const Series& b) { return a.folder < b.folder; });
  dest.series = std::move(older);
  if (current) dest.series.push_back(std::move(*current));
  return dest;
}

bool Destination::looks_like_destination(const fs::path& root) {
  std::error_code ec;
  if (!is_dir_nofollow(root)) return false;
  if (has_journal(root / kCurrentSeries) || holds_snapshot_folders(root / kCurrentSeries)) return true;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_timestamp_name(it->path().filename().string()) && has_journal(it->path())) return true;
  }
  return false;
}

const Series* Destination::current() const {
  if (!series.empty() && series.back().is_current()) return &series.back();
  return nullptr;
}

std::vector<const Snapshot*> Destination::complete_snapshots() const& {
  std::vector<const Snapshot*> out;
  for (const auto& s : series)
    for (const auto& snap : s.snapshots)
      if (snap.complete) out.push_back(&snap);
  std::sort(out.begin(), out.end(), [](const Snapshot* a, const Snapshot* b) { return a->name < b->name; });
  return out;
}

std::size_t Destination::complete_count() const {
  std::size_t n = 0;
  for (const auto& s : series)
    for (const auto& snap : s.snapshots) n += snap.complete;
  return n;
}

const Snapshot* Destination::newest_complete() const {
  const auto all = complete_snapshots();
  return all.empty() ? nullptr : all.back();
}

const Snapshot* Destination::find_snapshot(const std::string& name) const {
  for (const auto& s : series)
    for (const auto& snap : s.snapshots)
      if (snap.name == name) return &snap;
  return nullptr;
}

bool Destination::name_taken(const std::string& name) const {
  if (find_snapshot(name) != nullptr) return true;
  std::error_code ec;
  return fs::exists(root / name, ec) || fs::exists(root / kCurrentSeries / name, ec);
}

}  // namespace bkp
