#include "unchanged.h"

#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

namespace bkp {

bool same_version(const struct stat& a, const struct stat& b) {
  if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid || a.st_size != b.st_size) return false;
  if (S_ISLNK(a.st_mode)) return true;
  return a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string xattr_signature(int dirfd, const char* name) {
  // The xattr calls take paths; /proc/self/fd/N/<name> names the entry relative to the
  // open directory, and the l* calls do not follow a symlink stored there.
  const std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  std::vector<char> names(4096);
  ssize_t n;
  while ((n = ::llistxattr(path.c_str(), names.data(), names.size())) < 0 && errno == ERANGE)
    names.resize(names.size() * 4);
  if (n < 0) return errno == ENOTSUP || errno == ENODATA ? std::string() : "\x01unreadable:" + path;
  std::vector<std::pair<std::string, std::string>> attrs;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names.data() + i)) + 1) {
    const char* key = names.data() + i;
    std::string value(256, '\0');
    ssize_t len;
    while ((len = ::lgetxattr(path.c_str(), key, value.data(), value.size())) < 0 && errno == ERANGE)
      value.resize(value.size() * 4);
    if (len < 0) return "\x01unreadable:" + path;  // never equal to another entry's
    value.resize(static_cast<size_t>(len));
    attrs.emplace_back(key, std::move(value));
  }
  std::sort(attrs.begin(), attrs.end());
  std::string all;
  for (const auto& [key, value] : attrs) {
    all += key;
    all += '\0';
    all += std::to_string(value.size());
    all += ':';
    all += value;
  }
  return all;
}

bool same_symlink_target(int dirfd_a, const char* name_a, int dirfd_b, const char* name_b) {
  char a[PATH_MAX], b[PATH_MAX];
  const ssize_t na = ::readlinkat(dirfd_a, name_a, a, sizeof a);
  const bool a_plain = na < 0 && errno == EINVAL;  // not a symlink
  const ssize_t nb = ::readlinkat(dirfd_b, name_b, b, sizeof b);
  const bool b_plain = nb < 0 && errno == EINVAL;
  if (na < 0 || nb < 0) return a_plain && b_plain;
  return na == nb && std::memcmp(a, b, static_cast<size_t>(na)) == 0;
}

}  // namespace bkp
