#include "unchanged.h"

#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <vector>

#include "unique_fd.h"

#include "xattrs.h"

namespace bkp {

Difference stat_difference(const struct stat& a, const struct stat& b) {
  if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) return Difference::type;
  if (a.st_size != b.st_size) return Difference::content;
  if (!S_ISLNK(a.st_mode) && (a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec))
    return Difference::content;
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid) return Difference::metadata;
  return Difference::none;
}

bool same_version(const struct stat& a, const struct stat& b) { return stat_difference(a, b) == Difference::none; }

bool same_symlink_target(int dirfd_a, const char* name_a, int dirfd_b, const char* name_b) {
  char a[PATH_MAX], b[PATH_MAX];
  const ssize_t na = ::readlinkat(dirfd_a, name_a, a, sizeof a);
  const bool a_plain = na < 0 && errno == EINVAL;  // not a symlink
  const ssize_t nb = ::readlinkat(dirfd_b, name_b, b, sizeof b);
  const bool b_plain = nb < 0 && errno == EINVAL;
  if (na < 0 || nb < 0) return a_plain && b_plain;
  return na == nb && std::memcmp(a, b, static_cast<size_t>(na)) == 0;
}

bool same_content(int dirfd_a, const char* name_a, int dirfd_b, const char* name_b) {
  UniqueFd a(::openat(dirfd_a, name_a, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  UniqueFd b(::openat(dirfd_b, name_b, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!a || !b) return false;
  ::posix_fadvise(a.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  ::posix_fadvise(b.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf_a(1 << 20), buf_b(1 << 20);
  for (off_t at = 0;;) {
    const ssize_t na = ::pread(a.get(), buf_a.data(), buf_a.size(), at);
    const ssize_t nb = ::pread(b.get(), buf_b.data(), buf_b.size(), at);
    if (na < 0 || nb < 0 || na != nb) return false;
    if (na == 0) return true;
    if (std::memcmp(buf_a.data(), buf_b.data(), static_cast<size_t>(na)) != 0) return false;
    at += na;
  }
}

Difference compare_entries(int dirfd_a, const char* name_a, const struct stat& a, int dirfd_b, const char* name_b,
                           const struct stat& b, bool compare_xattrs) {
  if (same_inode(a, b)) return Difference::none;
  const Difference by_stat = stat_difference(a, b);
  if (by_stat == Difference::type || by_stat == Difference::content) return by_stat;
  if (S_ISLNK(a.st_mode) && !same_symlink_target(dirfd_a, name_a, dirfd_b, name_b)) return Difference::content;
  if (by_stat == Difference::metadata) return by_stat;
  if (compare_xattrs && xattr_signature(dirfd_a, name_a) != xattr_signature(dirfd_b, name_b))
    return Difference::metadata;
  return Difference::none;
}

}  // namespace bkp
