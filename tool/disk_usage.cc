#include "disk_usage.h"

#include <ftw.h>
#include <sys/stat.h>

namespace bkp {
namespace {

// nftw has no user pointer; the walk is single-threaded, so the current walk lives here.
thread_local Usage* t_usage = nullptr;
thread_local UsageCounter::InodeSet* t_seen = nullptr;

int visit(const char*, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return 0;
  t_usage->files += 1;
  if (!S_ISDIR(st->st_mode)) t_usage->apparent += static_cast<uint64_t>(st->st_size);
  if (t_seen->insert({st->st_dev, st->st_ino}).second)
    t_usage->added += static_cast<uint64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

Usage UsageCounter::measure(const std::filesystem::path& tree) {
  Usage usage;
  t_usage = &usage;
  t_seen = &seen_;
  ::nftw(tree.c_str(), visit, 64, FTW_PHYS);
  t_usage = nullptr;
  t_seen = nullptr;
  return usage;
}

}  // namespace bkp
