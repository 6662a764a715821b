#include "disk_usage.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

#include "walker.h"

namespace bkp {

uint64_t ExtentSet::add(uint64_t start, uint64_t end) {
  uint64_t fresh = 0;
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin() && std::prev(it)->second >= start) --it;  // the interval reaching into start
  uint64_t cursor = start, merged_start = start, merged_end = end;
  while (it != ranges_.end() && it->first <= end) {
    if (it->first > cursor) fresh += it->first - cursor;
    cursor = std::max(cursor, std::min(it->second, end));
    merged_start = std::min(merged_start, it->first);
    merged_end = std::max(merged_end, it->second);
    it = ranges_.erase(it);
  }
  if (cursor < end) fresh += end - cursor;
  ranges_[merged_start] = merged_end;
  return fresh;
}

uint64_t UsageCounter::new_data_bytes(int dir_fd, const char* name, const struct stat& st) {
  const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  int fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return allocated;
  constexpr unsigned kBatch = 64;
  auto buf = std::make_unique<char[]>(sizeof(fiemap) + kBatch * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buf.get());
  ExtentSet& seen = extents_[st.st_dev];
  uint64_t fresh = 0, next = 0;
  bool last = false;
  while (!last) {
    *map = {};
    map->fm_start = next;
    map->fm_length = FIEMAP_MAX_OFFSET - next;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = kBatch;
    if (::ioctl(fd, FS_IOC_FIEMAP, map) != 0) {
      ::close(fd);
      return allocated;  // no FIEMAP here: count what stat says
    }
    if (map->fm_mapped_extents == 0) break;
    for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
      const fiemap_extent& e = map->fm_extents[i];
      const bool unplaced = e.fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_DATA_INLINE);
      fresh += unplaced ? e.fe_length : seen.add(e.fe_physical, e.fe_physical + e.fe_length);
      next = e.fe_logical + e.fe_length;
      last = e.fe_flags & FIEMAP_EXTENT_LAST;
    }
  }
  ::close(fd);
  return fresh;
}

Usage UsageCounter::measure(const std::filesystem::path& tree) {
  Usage usage;
  auto count = [&](int dir_fd, const char* name, const struct stat& st) {
    usage.files += 1;
    if (!S_ISDIR(st.st_mode)) usage.apparent += static_cast<uint64_t>(st.st_size);
    if (!seen_.insert({st.st_dev, st.st_ino}).second) return;  // a hard link to counted data
    usage.added += S_ISREG(st.st_mode) && st.st_blocks > 0 ? new_data_bytes(dir_fd, name, st)
                                                            : static_cast<uint64_t>(st.st_blocks) * 512;
  };
  struct stat root {};
  if (::lstat(tree.c_str(), &root) != 0 || !S_ISDIR(root.st_mode)) return usage;
  count(AT_FDCWD, tree.c_str(), root);
  try {
    walk_tree(tree, {.enter = [&](const WalkEntry& e) {
      count(e.dir_fd, e.name, e.st);
      return Visit::descend;
    }});
  } catch (const std::system_error&) {
    // A snapshot removed while it is measured: what was counted stands.
  }
  return usage;
}

}  // namespace bkp
