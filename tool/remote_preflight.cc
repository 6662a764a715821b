#include "remote_preflight.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "child_process.h"
#include "errors.h"
#include "preflight.h"

namespace bkp {
namespace {

// How a source's directory appears in the --relative listing: its normal path without the
// leading slash ("srv/www"; "data" for a path relative to the remote home).
std::string listed_name(const SourceSpec& s) {
  std::string p = s.normal_path();
  p.erase(0, p.find_first_not_of('/'));
  return p;
}

// "rsync: [sender] link_stat "/srv/www" failed: No such file or directory (2)"
struct PathError {
  std::string path;
  std::string reason;  // "No such file or directory"
};

std::optional<PathError> parse_path_error(const std::string& line) {
  if (!line.starts_with("rsync:")) return std::nullopt;
  const size_t open = line.find('"');
  const size_t close = line.rfind("\" failed: ");
  if (open == std::string::npos || close == std::string::npos || close <= open) return std::nullopt;
  std::string reason = line.substr(close + 10);
  if (const size_t errno_at = reason.rfind(" ("); errno_at != std::string::npos) reason.erase(errno_at);
  return PathError{unescape_rsync_name(line.substr(open + 1, close - open - 1)), reason};
}

bool about(const PathError& e, const std::string& listed, bool relative) {
  return e.path == "/" + listed || e.path == listed || (relative && e.path.ends_with("/" + listed));
}

std::string names_of(const std::vector<SourceSpec>& sources) {
  std::string names;
  for (const SourceSpec& s : sources) names += (names.empty() ? "" : ", ") + s.given;
  return (sources.size() > 1 ? "sources " : "source ") + names;
}

// What the remote side said, for a refusal: ssh's last line (or a forced command's),
// else rsync's first.
std::string remote_message(const std::vector<std::string>& err) {
  for (auto it = err.rbegin(); it != err.rend(); ++it)
    if (!it->starts_with("rsync")) return *it;
  for (const std::string& line : err)
    if (!line.starts_with("rsync error:")) return line;
  return err.empty() ? "no message" : err.front();
}

}  // namespace

std::vector<std::string> listing_argv(const std::string& rsync, const std::string& rsh,
                                      const std::vector<SourceSpec>& sources) {
  std::vector<std::string> argv = {rsync, "--list-only", "--dirs", "--relative", "--no-human-readable"};
  if (!rsh.empty()) argv.push_back("--rsh=" + rsh);
  argv.emplace_back("--");
  // A trailing slash lists the directory's entries; ":path" is rsync's "same host again".
  for (const SourceSpec& s : sources)
    argv.push_back((argv.back() == "--" ? s.rsync_login() : std::string()) + ":" + s.normal_path() + "/");
  return argv;
}

std::string unescape_rsync_name(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto octal = [&](size_t k) { return k < name.size() && name[k] >= '0' && name[k] <= '7'; };
    if (name[i] == '\\' && i + 4 < name.size() && name[i + 1] == '#' && octal(i + 2) && octal(i + 3) && octal(i + 4)) {
      out += static_cast<char>((name[i + 2] - '0') * 64 + (name[i + 3] - '0') * 8 + (name[i + 4] - '0'));
      i += 4;
    } else {
      out += name[i];
    }
  }
  return out;
}

std::optional<ListedEntry> parse_listing_line(std::string_view line) {
  // Four fields (mode, size, date, time), then one space, then the name.
  std::string_view fields[4];
  size_t at = 0;
  for (auto& field : fields) {
    const size_t start = line.find_first_not_of(' ', at);
    if (start == std::string_view::npos) return std::nullopt;
    at = line.find(' ', start);
    if (at == std::string_view::npos) return std::nullopt;
    field = line.substr(start, at - start);
  }
  const bool shaped = fields[0].size() == 10 && fields[2].size() == 10 && fields[2][4] == '/' &&
                      fields[2][7] == '/' && fields[3].size() == 8 && fields[3][2] == ':' && fields[3][5] == ':';
  if (!shaped || at + 1 >= line.size()) return std::nullopt;
  ListedEntry e{line[0], std::string(line.substr(at + 1))};
  if (e.type == 'l')
    if (const size_t arrow = e.name.find(" -> "); arrow != std::string::npos) e.name.erase(arrow);
  e.name = unescape_rsync_name(e.name);
  return e;
}

std::vector<std::string> judge_listing(const std::vector<SourceSpec>& sources, const ListingOutput& listing,
                                       bool allow_empty) {
  const int code = listing.exit_code;
  if (code != 0 && code != 23 && code != 24) {
    bool never_connected = code == 255;
    for (const std::string& line : listing.err)
      if (line.find("connection unexpectedly closed (0 bytes received so far)") != std::string::npos) never_connected = true;
    const std::string login = sources.front().login();
    // ssh could not connect or log in, or a forced command (rrsync) refused: what it said tells.
    if (never_connected)
      return {names_of(sources) + ": cannot list " + (sources.size() > 1 ? "them" : "it") + " on " + login + ": " +
              remote_message(listing.err)};
    return {names_of(sources) + ": rsync on " + login + " failed with exit status " + std::to_string(code) + ": " +
            remote_message(listing.err)};
  }
  std::map<std::string, char> types;
  std::set<std::string> with_entries;
  for (const std::string& line : listing.out) {
    const auto entry = parse_listing_line(line);
    if (!entry) continue;
    types[entry->name] = entry->type;
    if (const size_t slash = entry->name.rfind('/'); slash != std::string::npos)
      with_entries.insert(entry->name.substr(0, slash));
  }
  std::vector<PathError> errors;
  for (const std::string& line : listing.err)
    if (auto e = parse_path_error(line)) errors.push_back(*e);

  std::vector<std::string> refusals;
  for (const SourceSpec& s : sources) {
    const std::string listed = listed_name(s);
    const bool relative = !s.normal_path().starts_with('/');
    const PathError* error = nullptr;
    for (const PathError& e : errors)
      if (about(e, listed, relative)) error = &e;
    const auto type = types.find(listed);
    const std::string who = "source " + s.given + ": ";
    if (type == types.end()) {
      const bool missing = error == nullptr || error->reason.starts_with("No such file");
      refusals.push_back(who + (missing ? "does not exist" : "cannot read it: " + error->reason));
    } else if (type->second != 'd') {
      refusals.push_back(who + "not a directory");
    } else if (error != nullptr) {
      refusals.push_back(who + "cannot read it: " + error->reason);
    } else if (!allow_empty && !with_entries.contains(listed)) {
      refusals.push_back(who + "is empty (a missing mount?); use --allow-empty to back it up anyway");
    }
  }
  return refusals;
}

void check_remote_sources(const std::vector<SourceSpec>& sources, const std::string& rsync, const std::string& rsh,
                          bool allow_empty) {
  std::vector<std::string> logins;
  for (const SourceSpec& s : sources)
    if (s.remote() && std::find(logins.begin(), logins.end(), s.login()) == logins.end()) logins.push_back(s.login());
  std::vector<std::string> refusals;
  for (const std::string& login : logins) {
    std::vector<SourceSpec> of_login;
    for (const SourceSpec& s : sources)
      if (s.remote() && s.login() == login) of_login.push_back(s);
    const auto argv = listing_argv(rsync, rsh, of_login);
    spdlog::debug("checking the sources on {}: {} ...", login, argv.front());
    ListingOutput listing;
    Child child = spawn_child(argv);
    listing.exit_code = stream_child(
        child, [&](const std::string& line, bool) { listing.out.push_back(line); },
        [&](const std::string& line, bool) { listing.err.push_back(line); });
    for (const std::string& line : judge_listing(of_login, listing, allow_empty)) refusals.push_back(line);
  }
  if (refusals.empty()) return;
  for (size_t i = 0; i + 1 < refusals.size(); ++i) spdlog::error("{}", refusals[i]);
  throw Failure(refusals.back());
}

std::vector<SourceSpec> check_local_and_remote_sources(const BackupOptions& options, const std::string& rsync) {
  std::vector<SourceSpec> specs = parse_sources(options.sources);
  std::vector<std::string> local;
  for (const SourceSpec& s : specs)
    if (!s.remote()) local.push_back(s.path);
  const auto absolute = check_sources(local, options.allow_empty);
  auto next = absolute.begin();
  for (SourceSpec& s : specs)
    if (!s.remote()) s.path = (next++)->string();
  check_remote_sources(specs, rsync, options.rsh, options.allow_empty);
  return specs;
}

}  // namespace bkp
