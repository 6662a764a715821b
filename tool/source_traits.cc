#include "source_traits.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>

#include "plain_file.h"
#include "walker.h"
#include "xattrs.h"

namespace bkp {

SourceTraits scan_source_traits(const std::vector<std::filesystem::path>& sources) {
  std::atomic<bool> xattrs{false}, sparse{false};
  for (const auto& src : sources) {
    if (has_xattrs(AT_FDCWD, src.c_str())) xattrs = true;
    try {
      walk_tree(src, {.enter = [&](const WalkEntry& e) {
        if (has_holes(e.st)) sparse = true;
        if (!xattrs && has_xattrs(e.dir_fd, e.name)) xattrs = true;
        return xattrs && sparse ? Visit::stop : Visit::descend;
      }}, {.threads = 2});
    } catch (const std::system_error&) {
      // An unreadable source is refused earlier; one that vanished now is rsync's to report.
    }
    if (xattrs && sparse) break;
  }
  return {xattrs, sparse};
}

}  // namespace bkp
