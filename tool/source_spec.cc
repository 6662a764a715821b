#include "source_spec.h"

#include <filesystem>
#include <optional>
#include <set>

#include "errors.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

std::string without_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// The last component of a path, or "" when it has none that could name a folder.
std::string last_component(const std::string& path) {
  const fs::path normal = fs::path(without_trailing_slashes(path)).lexically_normal();
  std::string name = normal.filename().string();
  if (name == "." || name == ".." || name == "/") name.clear();
  return name;
}

bool starts_with_ignoring_case(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

struct HostPart {
  std::string user, host;
  size_t colon = 0;  // where the host part ends
};

// rsync's reading of "[user@]host:" at the start of an argument: the host ends at the
// first colon, unless a slash comes first (then the argument is a local path); the user is
// everything before the last '@' in front of it; "[...]" holds an IPv6 address.
std::optional<HostPart> host_part(const std::string& s) {
  HostPart part;
  size_t host_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '/') return std::nullopt;
    if (c == ':') {
      part.host = s.substr(host_start, i - host_start);
      part.colon = i;
      return part;
    }
    if (c == '@') {
      part.user = s.substr(0, i);
      host_start = i + 1;
    } else if (c == '[') {
      if (i != host_start) return std::nullopt;
      const size_t close = s.find_first_of("]/", i);
      if (close == std::string::npos || s[close] != ']' || close == i + 1) return std::nullopt;
      if (close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
      part.host = s.substr(i + 1, close - i - 1);
      part.colon = close + 1;
      return part;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string SourceSpec::login() const { return user.empty() ? host : user + "@" + host; }

std::string SourceSpec::rsync_login() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return user.empty() ? h : user + "@" + h;
}

std::string SourceSpec::normal_path() const {
  return path.empty() ? path : without_trailing_slashes(fs::path(path).lexically_normal().string());
}

std::string SourceSpec::rsync_argument() const { return remote() ? rsync_login() + ":" + normal_path() : path; }

std::string SourceSpec::name() const {
  if (remote()) return last_component(path);
  return last_component(fs::absolute(path).lexically_normal().string());
}

SourceSpec parse_source(const std::string& given) {
  if (given.empty()) throw UsageError("--sources: an empty path was given");
  if (starts_with_ignoring_case(given, "rsync://"))
    throw UsageError("source " + given + ": rsync daemon sources are not supported; pull over ssh with host:/path");
  SourceSpec spec{.given = given};
  const auto part = host_part(given);
  if (!part) {
    spec.path = given;
    return spec;
  }
  if (given.compare(part->colon, 2, "::") == 0)
    throw UsageError("source " + given + ": rsync daemon sources (host::module) are not supported; pull over ssh with host:/path");
  if (part->host.empty()) throw UsageError("source " + given + ": no host before ':' (write ./" + given + " for a local path)");
  spec.user = part->user;
  spec.host = part->host;
  spec.path = without_trailing_slashes(given.substr(part->colon + 1));
  return spec;
}

std::vector<SourceSpec> parse_sources(const std::vector<std::string>& given) {
  std::vector<SourceSpec> specs;
  std::set<std::string> names;
  for (const std::string& g : given) {
    SourceSpec spec = parse_source(g);
    const std::string name = spec.name();
    if (name.empty())
      throw Failure("source " + g + ": has no name to store it under; give a directory below " +
                    (spec.remote() ? "/ on " + spec.host : std::string("/")));
    if (!names.insert(name).second)
      throw Failure("source " + g + ": another source has the same name '" + name +
                    "', and both would be stored in DEST/0/<snapshot>/" + name);
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace bkp
