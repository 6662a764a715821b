#include "disk_usage.h"

#include <fcntl.h>
#include <ftw.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

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

uint64_t UsageCounter::new_data_bytes(const char* path, const struct stat& st) {
  const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
  const int fd = ::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
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

namespace {

// nftw has no user pointer; the walk is single-threaded, so the current walk lives here.
thread_local Usage* t_usage = nullptr;
thread_local UsageCounter* t_counter = nullptr;
thread_local UsageCounter::InodeSet* t_seen = nullptr;

int visit(const char* path, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return 0;
  t_usage->files += 1;
  if (!S_ISDIR(st->st_mode)) t_usage->apparent += static_cast<uint64_t>(st->st_size);
  if (!t_seen->insert({st->st_dev, st->st_ino}).second) return 0;  // a hard link to counted data
  t_usage->added += S_ISREG(st->st_mode) && st->st_blocks > 0 ? t_counter->new_data_bytes(path, *st)
                                                               : static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

Usage UsageCounter::measure(const std::filesystem::path& tree) {
  Usage usage;
  t_usage = &usage;
  t_counter = this;
  t_seen = &seen_;
  ::nftw(tree.c_str(), visit, 64, FTW_PHYS);
  t_usage = nullptr;
  t_counter = nullptr;
  t_seen = nullptr;
  return usage;
}

}  // namespace bkp
