#include "record_checksums.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "checksum_record.h"
#include "errors.h"
#include "snapshot_checksums.h"
#include "unique_fd.h"

namespace bkp {

JournalFields record_checksums(int series_fd, const std::filesystem::path& series_dir, const std::string& name,
                               const Snapshot* previous, const ChecksumsByPath& written_by_rsync) {
  const auto started = std::chrono::steady_clock::now();
  constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd snapshot(::openat(series_fd, name.c_str(), kDirFlags));
  if (!snapshot) throw_errno("cannot open " + name + " to record its checksums");
  UniqueFd previous_fd;
  if (previous != nullptr) previous_fd = UniqueFd(::openat(series_fd, previous->name.c_str(), kDirFlags));
  const auto load_previous = [&]() -> std::optional<ChecksumRecord> {
    try {
      return read_checksum_record(series_fd, previous->name);
    } catch (const std::system_error& e) {
      spdlog::warn("{}; every file of {} is read for its checksum", e.what(), name);
      return std::nullopt;
    }
  };
  RecordStats stats;
  const ChecksumRecord record =
      checksum_snapshot(snapshot.get(), previous_fd ? previous_fd.get() : -1, load_previous, written_by_rsync, stats);
  const auto computed = std::chrono::steady_clock::now();
  try {
    write_checksum_record(series_fd, name, record, Durability::caller_syncs);  // backup.cc syncs DEST next
  } catch (const std::system_error& e) {
    throw Failure((series_dir / e.what()).string() + "; snapshot " + (series_dir / name).string() +
                  " is left partial and the next run will reuse it");
  }
  if (const unsigned orphans = forget_orphan_checksum_records(series_fd); orphans > 0)
    spdlog::debug("removed {} checksum records of snapshots that are gone", orphans);
  for (const std::string& path : stats.unreadable)
    spdlog::warn("{}/{}: cannot be read for its checksum; bkp verify will report it as unrecorded", name, path);
  const auto since = [](auto from, auto to) { return std::chrono::duration<double>(to - from).count(); };
  const auto now = std::chrono::steady_clock::now();
  spdlog::debug("checksum record: {} files, {} of them read ({} bytes), {} from rsync, in {:.3f} s (writing it {:.3f} s)",
                stats.files, stats.hashed, stats.hashed_bytes, stats.from_rsync, since(started, now), since(computed, now));
  return {{"checksum_record", std::string(kChecksumDir) + "/" + checksum_record_name(name)},
          {"checksum_files", std::to_string(stats.files)},
          {"checksum_hashed", std::to_string(stats.hashed)},
          {"checksum_from_rsync", std::to_string(stats.from_rsync)}};
}

}  // namespace bkp
