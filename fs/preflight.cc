#include "preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "store.h"

namespace bkpfs {

namespace fs = std::filesystem;

namespace {

std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view digits = s.substr(i + 1, 3);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>(std::stoi(std::string(digits), nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string describe(const fs::path& p, int err) { return p.string() + ": " + std::strerror(err); }

}  // namespace

std::vector<std::string> parse_mount_points(std::string_view mountinfo) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // "id parent major:minor root mountpoint options ..."
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountpoint;
    if (fields >> id >> parent >> dev >> root >> mountpoint) out.push_back(unescape_octal(mountpoint));
  }
  return out;
}

bool is_mount_point(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(path), ec);
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  for (const std::string& mp : parse_mount_points(text.str()))
    if (mp == (ec ? path.string() : canonical.string())) return true;
  return false;
}

void check_destination(const fs::path& dest) {
  std::error_code ec;
  const auto status = fs::status(dest, ec);
  if (ec) throw Refusal(describe(dest, ec.value()));
  if (!fs::is_directory(status)) throw Refusal(dest.string() + ": not a directory");
  if (::access(dest.c_str(), R_OK | X_OK) != 0) throw Refusal(describe(dest, errno));
  if (!bkp::Destination::looks_like_destination(dest))
    throw Refusal(dest.string() + ": not a bkp destination (no 0/cfg.ini and no series with a cfg.ini)");
}

void check_mountpoint(const fs::path& mountpoint) {
  struct stat st {};
  if (::stat(mountpoint.c_str(), &st) != 0) {
    // A dead FUSE mount (its daemon gone) answers ENOTCONN: still "already mounted".
    if (errno == ENOTCONN) throw Refusal(mountpoint.string() + ": already mounted (stale, unmount it first)");
    throw Refusal("mount point " + describe(mountpoint, errno));
  }
  if (!S_ISDIR(st.st_mode)) throw Refusal("mount point " + mountpoint.string() + ": not a directory");
  if (is_mount_point(mountpoint)) throw Refusal("mount point " + mountpoint.string() + ": already mounted");
}

void check_fuse_device() {
  const int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw Refusal(describe("/dev/fuse", errno) + " (is the fuse module loaded?)");
  ::close(fd);
}

}  // namespace bkpfs
