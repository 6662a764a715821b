#include "source_traits.h"

#include <ftw.h>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace bkp {
namespace {

thread_local SourceTraits* t_traits = nullptr;  // nftw has no user pointer

int visit(const char* path, const struct stat* st, int type, FTW*) {
  if (type == FTW_NS) return FTW_CONTINUE;
  if (S_ISREG(st->st_mode) && static_cast<off_t>(st->st_blocks) * 512 < st->st_size) t_traits->sparse = true;
  if (!t_traits->xattrs && ::llistxattr(path, nullptr, 0) > 0) t_traits->xattrs = true;
  return t_traits->xattrs && t_traits->sparse ? FTW_STOP : FTW_CONTINUE;
}

}  // namespace

SourceTraits scan_source_traits(const std::vector<std::filesystem::path>& sources) {
  SourceTraits traits;
  t_traits = &traits;
  for (const auto& src : sources) ::nftw(src.c_str(), visit, 64, FTW_PHYS | FTW_ACTIONRETVAL);
  t_traits = nullptr;
  return traits;
}

}  // namespace bkp
