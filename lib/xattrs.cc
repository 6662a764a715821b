#include "xattrs.h"

#include <fcntl.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace bkp {

std::string fd_relative_path(int dir_fd, const char* name) {
  if (dir_fd == AT_FDCWD) return name;
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

bool has_xattrs(int dir_fd, const char* name) {
  return ::llistxattr(fd_relative_path(dir_fd, name).c_str(), nullptr, 0) > 0;
}

bool seen_without_xattrs(int dir_fd, const char* name) {
  const ssize_t n = ::llistxattr(fd_relative_path(dir_fd, name).c_str(), nullptr, 0);
  return n == 0 || (n < 0 && errno == ENOTSUP);
}

std::string xattr_signature(int dir_fd, const char* name) {
  const std::string path = fd_relative_path(dir_fd, name);
  std::vector<char> names(4096);
  ssize_t n;
  while ((n = ::llistxattr(path.c_str(), names.data(), names.size())) < 0 && errno == ERANGE)
    names.resize(names.size() * 4);
  if (n < 0) return errno == ENOTSUP ? std::string() : "\x01unreadable:" + path;
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

}  // namespace bkp
