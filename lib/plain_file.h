// Which regular files a copy of their bytes and stat reproduces exactly: one name (a
// hard-link group must stay one inode, rsync -H's job) and no holes (a sparse file needs
// rsync --sparse). Shared by the source traits walk, which tells rsync whether to look for
// holes at all, and the full run's own copier (tool/copy_plain_files.h).
#pragma once

#include <sys/stat.h>

namespace bkp {

// Fewer blocks allocated than its size needs: the file has holes (or is stored compressed
// or inline, which a copy cannot tell apart either).
inline bool has_holes(const struct stat& st) {
  return S_ISREG(st.st_mode) && static_cast<off_t>(st.st_blocks) * 512 < st.st_size;
}

// A regular file with one name and no holes.
inline bool is_plain_file(const struct stat& st) {
  return S_ISREG(st.st_mode) && st.st_nlink == 1 && !has_holes(st);
}

}  // namespace bkp
