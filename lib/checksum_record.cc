#include "checksum_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "atomic_file.h"
#include "timestamp.h"
#include "walker.h"
#include "errors.h"
#include "unique_fd.h"

namespace bkp {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

bool needs_escape(std::string_view path) { return path.find_first_of("\\\n\r") != std::string_view::npos; }

// Undoes xxhsum's escaping; nullopt for a sequence it would not accept.
std::optional<std::string> unescape(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '\\') {
      out += path[i];
      continue;
    }
    if (++i == path.size()) return std::nullopt;
    switch (path[i]) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      default: return std::nullopt;
    }
  }
  return out;
}

std::string display_name(const std::string& snapshot) {
  return std::string(kChecksumDir) + "/" + checksum_record_name(snapshot);
}

}  // namespace

void ChecksumRecord::add(std::string path, const Checksum& sum) {
  if (sorted_ && !entries_.empty() && !(entries_.back().path < path)) sorted_ = false;
  entries_.push_back({std::move(path), sum});
}

void ChecksumRecord::sort() const {
  if (sorted_) return;
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const RecordEntry& a, const RecordEntry& b) { return a.path < b.path; });
  // Of equal paths, stable_sort kept the order of adding: the last one replaces the others.
  std::vector<RecordEntry> unique;
  unique.reserve(entries_.size());
  for (RecordEntry& e : entries_) {
    if (!unique.empty() && unique.back().path == e.path) unique.back() = std::move(e);
    else unique.push_back(std::move(e));
  }
  entries_ = std::move(unique);
  sorted_ = true;
}

const std::vector<RecordEntry>& ChecksumRecord::entries() const {
  sort();
  return entries_;
}

const RecordEntry* ChecksumRecord::find(std::string_view path) const {
  const long i = index_of(path);
  return i < 0 ? nullptr : &entries_[static_cast<size_t>(i)];
}

long ChecksumRecord::index_of(std::string_view path) const {
  const std::vector<RecordEntry>& all = entries();
  const auto at = std::lower_bound(all.begin(), all.end(), path,
                                   [](const RecordEntry& e, std::string_view p) { return e.path < p; });
  return at == all.end() || at->path != path ? -1 : static_cast<long>(at - all.begin());
}

std::string checksum_line(const Checksum& sum, std::string_view path) {
  std::string line;
  line.reserve(path.size() + 36);
  if (!needs_escape(path)) {
    line += sum.hex();
    line += "  ";
    line += path;
  } else {
    line += '\\';
    line += sum.hex();
    line += "  ";
    for (char c : path) {
      if (c == '\\') line += "\\\\";
      else if (c == '\n') line += "\\n";
      else if (c == '\r') line += "\\r";
      else line += c;
    }
  }
  line += '\n';
  return line;
}

std::string ChecksumRecord::text() const {
  size_t bytes = 0;
  for (const RecordEntry& e : entries()) bytes += e.path.size() + 36;
  std::string out;
  out.reserve(bytes);
  for (const RecordEntry& e : entries_) out += checksum_line(e.sum, e.path);
  return out;
}

ChecksumRecord ChecksumRecord::parse(std::string_view text, std::vector<std::string>* problems) {
  ChecksumRecord record;
  record.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    if (line.empty()) continue;
    const bool escaped = line.front() == '\\';
    if (escaped) line.remove_prefix(1);
    const auto sum = line.size() > 34 && line.substr(32, 2) == "  " ? Checksum::from_hex(line.substr(0, 32)) : std::nullopt;
    const auto path = !sum ? std::nullopt
                      : escaped ? unescape(line.substr(34))
                                : std::optional<std::string>(std::string(line.substr(34)));
    if (!path || path->empty()) {
      if (problems != nullptr) problems->push_back("line " + std::to_string(line_no) + ": not a checksum line");
      continue;
    }
    record.add(std::move(*path), *sum);
  }
  return record;
}

std::string checksum_record_name(const std::string& snapshot) { return snapshot + kChecksumSuffix; }

std::optional<ChecksumRecord> read_checksum_record(int series_fd, const std::string& snapshot,
                                                   std::vector<std::string>* problems) {
  UniqueFd dir(::openat(series_fd, kChecksumDir, kDirFlags));
  if (!dir && errno == ENOENT) return std::nullopt;
  if (!dir) throw_errno(std::string(kChecksumDir) + ": cannot open it");
  UniqueFd fd(::openat(dir.get(), checksum_record_name(snapshot).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::nullopt;
  struct stat st {};
  if (fd && (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))) {
    errno = EINVAL;
    fd.reset();
  }
  if (!fd) throw_errno(display_name(snapshot) + ": cannot read it");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  for (;;) {
    if (done == text.size()) text.resize(text.size() + 65536);  // grew meanwhile
    const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(display_name(snapshot) + ": cannot read it");
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return ChecksumRecord::parse(text, problems);
}

bool has_checksum_record(int series_fd, const std::string& snapshot) {
  UniqueFd dir(::openat(series_fd, kChecksumDir, kDirFlags));
  struct stat st {};
  return dir && ::fstatat(dir.get(), checksum_record_name(snapshot).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

void write_checksum_record(int series_fd, const std::string& snapshot, const ChecksumRecord& record,
                           Durability durability) {
  if (::mkdirat(series_fd, kChecksumDir, 0755) != 0 && errno != EEXIST) throw_errno(std::string(kChecksumDir) + ": cannot create it");
  UniqueFd dir(::openat(series_fd, kChecksumDir, kDirFlags));
  if (!dir) throw_errno(std::string(kChecksumDir) + (errno == ENOTDIR || errno == ELOOP ? ": not a real directory" : ": cannot open it"));
  try {
    replace_file_atomically(dir.get(), checksum_record_name(snapshot), record.text(), 0644, durability);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), display_name(snapshot) + ": cannot write it");
  }
}

bool forget_checksum_record(int series_fd, const std::string& snapshot) {
  UniqueFd dir(::openat(series_fd, kChecksumDir, kDirFlags));
  if (!dir && errno == ENOENT) return false;
  if (!dir) throw_errno(std::string(kChecksumDir) + ": cannot open it");
  if (::unlinkat(dir.get(), checksum_record_name(snapshot).c_str(), 0) == 0) {
    ::fsync(dir.get());
    return true;
  }
  if (errno == ENOENT) return false;
  throw_errno(display_name(snapshot) + ": cannot remove it");
}

unsigned forget_orphan_checksum_records(int series_fd) {
  UniqueFd dir(::openat(series_fd, kChecksumDir, kDirFlags));
  if (!dir) return 0;
  std::vector<DirName> names;
  if (!read_directory(dir.get(), names)) throw_errno(std::string(kChecksumDir) + ": cannot read it");
  const std::string_view suffix = kChecksumSuffix;
  unsigned removed = 0;
  for (const DirName& n : names) {
    bool orphan = false;
    if (n.name.front() == '.' && n.name.ends_with(".tmp")) {
      orphan = true;  // a write that never finished
    } else if (n.name.ends_with(suffix)) {
      const std::string snapshot = n.name.substr(0, n.name.size() - suffix.size());
      struct stat st {};
      orphan = is_timestamp_name(snapshot) && ::fstatat(series_fd, snapshot.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 &&
               errno == ENOENT;
    }
    if (orphan && ::unlinkat(dir.get(), n.name.c_str(), 0) == 0) ++removed;
  }
  if (removed > 0) ::fsync(dir.get());
  return removed;
}

}  // namespace bkp
