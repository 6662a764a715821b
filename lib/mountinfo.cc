#include "mountinfo.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace bkp {

namespace {

std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string_view digits = s.substr(i + 1, 3);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, options, word;
    if (!(fields >> id >> parent >> dev >> root >> mount_point >> options)) continue;
    while (fields >> word && word != "-") {  // optional tags such as shared:1
    }
    MountEntry e;
    e.mount_point = unescape_octal(mount_point);
    e.options = options;
    if (word == "-" && fields >> e.type) {
      fields >> e.source;
      e.type = unescape_octal(e.type);
      e.source = unescape_octal(e.source);
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<MountEntry> read_mountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  return parse_mountinfo(text.str());
}

std::optional<MountEntry> mount_at(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::path wanted = std::filesystem::absolute(path, ec).lexically_normal();
  // A live directory may be reached through symlinks; a dead mount cannot be resolved.
  if (auto canonical = std::filesystem::canonical(wanted, ec); !ec) wanted = canonical;
  std::string key = wanted.string();
  while (key.size() > 1 && key.back() == '/') key.pop_back();
  std::optional<MountEntry> found;
  for (MountEntry& e : read_mountinfo())  // later lines are mounted on top of earlier ones
    if (e.mount_point == key) found = std::move(e);
  return found;
}

}  // namespace bkp
