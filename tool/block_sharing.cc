#include "block_sharing.h"

#include "beneath.h"
#include "unchanged.h"
#include "unique_fd.h"
#include "walker.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace bkp {
namespace {

// Ranges are tried large first; a range that differs anywhere is not shared at all, so
// it is split down to kSmallRange to find the identical parts around a change.
constexpr uint64_t kLargeRange = 16 << 20;  // btrfs's per-call limit
constexpr uint64_t kSmallRange = 128 << 10;

// One FIDEDUPERANGE call: returns the bytes the kernel found identical and shared.
uint64_t dedupe(int src, int dst, uint64_t offset, uint64_t length) {
  auto buf = std::make_unique<char[]>(sizeof(file_dedupe_range) + sizeof(file_dedupe_range_info));
  auto* range = reinterpret_cast<file_dedupe_range*>(buf.get());
  *range = {};
  range->src_offset = offset;
  range->src_length = length;
  range->dest_count = 1;
  range->info[0] = {};
  range->info[0].dest_fd = dst;
  range->info[0].dest_offset = offset;
  if (::ioctl(src, FIDEDUPERANGE, range) != 0) return 0;
  return range->info[0].status == FILE_DEDUPE_RANGE_SAME ? range->info[0].bytes_deduped : 0;
}

// Rewrites [offset, offset+length) of `fd` with the same bytes. On btrfs an extent stays
// allocated whole while any part of it is referenced, so the few ranges of a changed file
// that could not be shared would otherwise pin all of the extent rsync wrote; rewritten,
// they get extents of their own and the rest is freed. Content does not change.
void rewrite_range(int fd, uint64_t offset, uint64_t length) {
  std::vector<char> buf(std::min<uint64_t>(length, kLargeRange));
  for (uint64_t at = offset; at < offset + length;) {
    const ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), offset + length - at), static_cast<off_t>(at));
    if (n <= 0 || ::pwrite(fd, buf.data(), static_cast<size_t>(n), static_cast<off_t>(at)) != n) return;
    at += static_cast<uint64_t>(n);
  }
}

struct Ranges {
  uint64_t shared = 0;
  std::vector<std::pair<uint64_t, uint64_t>> unshared;  // (offset, length)
};

void dedupe_range(int src, int dst, uint64_t offset, uint64_t length, uint64_t step, Ranges& out) {
  for (uint64_t at = offset; at < offset + length; at += step) {
    const uint64_t len = std::min(step, offset + length - at);
    const uint64_t done = dedupe(src, dst, at, len);
    if (done == len) out.shared += done;
    else if (step > kSmallRange) dedupe_range(src, dst, at, len, kSmallRange, out);
    else out.unshared.emplace_back(at, len);
  }
}

}  // namespace

bool reflink_supported(const fs::path& dir) {
  const fs::path a = dir / (".bkp-reflink-" + std::to_string(::getpid()));
  const fs::path b = a.string() + ".clone";
  bool supported = false;
  {
    UniqueFd src(::open(a.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    UniqueFd dst(src ? ::open(b.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1);
    if (src && dst) {
      const std::string block(4096, 'b');
      supported = ::write(src.get(), block.data(), block.size()) == static_cast<ssize_t>(block.size()) &&
                  ::ioctl(dst.get(), FICLONE, src.get()) == 0;
    }
  }
  ::unlink(b.c_str());
  ::unlink(a.c_str());
  return supported;
}

namespace {

// Shares what `dst` has in common with `src`, both open (src for reading, dst O_RDWR).
SharingStats share_open_files(int src, int dst) {
  SharingStats stats;
  struct stat s {}, d {};
  if (::fstat(src, &s) != 0 || ::fstat(dst, &d) != 0) return stats;
  const uint64_t block = static_cast<uint64_t>(d.st_blksize > 0 ? d.st_blksize : 4096);
  // Whole blocks only, and the last partial block only where both files end there.
  uint64_t length = static_cast<uint64_t>(std::min(s.st_size, d.st_size));
  if (s.st_size != d.st_size) length -= length % block;
  if (length == 0) return stats;
  stats.files = 1;
  Ranges ranges;
  dedupe_range(src, dst, 0, length, kLargeRange, ranges);
  stats.shared_bytes = ranges.shared;
  if (ranges.shared == 0) return stats;
  if (static_cast<uint64_t>(d.st_size) > length) ranges.unshared.emplace_back(length, d.st_size - length);
  for (const auto& [offset, len] : ranges.unshared) rewrite_range(dst, offset, len);
  const timespec times[2] = {d.st_atim, d.st_mtim};  // rsync's times, which the rewrite touched
  ::futimens(dst, times);
  return stats;
}

}  // namespace

SharingStats share_blocks(const fs::path& file, const fs::path& previous) {
  UniqueFd src(::open(previous.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  UniqueFd dst(::open(file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!src || !dst) return {};
  return share_open_files(src.get(), dst.get());
}

SharingStats share_with_previous(const fs::path& snapshot, const fs::path& previous) {
  SharingStats stats;
  UniqueFd prev_root(::open(previous.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!prev_root) return stats;
  walk_tree(snapshot, {.enter = [&](const WalkEntry& e) {
    if (!S_ISREG(e.st.st_mode) || e.st.st_size < 4096) return Visit::descend;
    // The previous version at the same path, reached without following any symlink.
    UniqueFd src(open_beneath(prev_root.get(), e.path, O_RDONLY | O_NOFOLLOW));
    struct stat before {};
    if (!src || ::fstat(src.get(), &before) != 0 || !S_ISREG(before.st_mode)) return Visit::descend;
    if (same_inode(before, e.st)) return Visit::descend;  // unchanged: a hard link already
    UniqueFd dst(::openat(e.dir_fd, e.name, O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!dst) return Visit::descend;
    const SharingStats one = share_open_files(src.get(), dst.get());
    stats.files += one.files;
    stats.shared_bytes += one.shared_bytes;
    return Visit::descend;
  }});
  return stats;
}

}  // namespace bkp
