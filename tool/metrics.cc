#include "metrics.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include "atomic_file.h"
#include "errors.h"
#include "store.h"
#include "timestamp.h"
#include "unique_fd.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

struct Family {
  const char* name;
  const char* help;
  std::function<std::string(const RunMetrics&)> value;
};

std::string number(std::uint64_t v) { return std::to_string(v); }

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {"bkp_last_run_timestamp_seconds", "When the last bkp run ended (Unix time), refused and failed runs included.",
       [](const RunMetrics& m) { return std::to_string(m.ended); }},
      {"bkp_last_success_timestamp_seconds", "When the last run that made a complete snapshot ended (Unix time; 0: none).",
       [](const RunMetrics& m) { return std::to_string(m.last_success); }},
      {"bkp_last_run_success", "1 if the last run made a complete snapshot, else 0.",
       [](const RunMetrics& m) { return std::string(m.success ? "1" : "0"); }},
      {"bkp_last_run_exit_code", "Exit status of the last run: 0 complete, 1 refused or failed, 3 complete without unreadable files.",
       [](const RunMetrics& m) { return std::to_string(m.exit_code); }},
      {"bkp_last_run_duration_seconds", "How long the last run took.",
       [](const RunMetrics& m) {
         char buf[32];
         std::snprintf(buf, sizeof buf, "%.3f", m.seconds);
         return std::string(buf);
       }},
      {"bkp_last_run_transferred_bytes", "Bytes of the files rsync transferred in the last run.",
       [](const RunMetrics& m) { return number(m.transferred_bytes); }},
      {"bkp_last_run_transferred_files", "Files rsync transferred in the last run.",
       [](const RunMetrics& m) { return number(m.transferred_files); }},
      {"bkp_last_run_added_bytes", "New data the last run stored in the destination (transferred less shared blocks).",
       [](const RunMetrics& m) { return number(m.added_bytes); }},
      {"bkp_snapshots", "Complete snapshots in the destination after the last run.",
       [](const RunMetrics& m) { return number(m.snapshots); }},
  };
  return all;
}

// Appends the UTF-8 sequence at s[i] (advancing i), or U+FFFD for a byte that starts none.
void append_utf8_char(std::string_view s, std::size_t& i, std::string& out) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  bool ok = len != 0 && i + len <= s.size() && !(len == 2 && c < 0xC2);
  for (std::size_t k = 1; ok && k < len; ++k) ok = (byte(i + k) & 0xC0) == 0x80;
  if (ok && len == 3) ok = !(c == 0xE0 && byte(i + 1) < 0xA0) && !(c == 0xED && byte(i + 1) >= 0xA0);
  if (ok && len == 4) ok = !(c == 0xF0 && byte(i + 1) < 0x90) && !(c == 0xF4 && byte(i + 1) >= 0x90) && c <= 0xF4;
  if (!ok) {
    out += "\xEF\xBF\xBD";
    ++i;
    return;
  }
  out.append(s.substr(i, len));
  i += len;
}

std::string label_value(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size();) {
    switch (raw[i]) {
      case '\\': out += "\\\\"; ++i; break;
      case '"': out += "\\\""; ++i; break;
      case '\n': out += "\\n"; ++i; break;
      default: append_utf8_char(raw, i, out);
    }
  }
  return out;
}

struct Sample {
  std::string name, labels, value;  // labels: the text between the braces, as written
};

// The sample lines of an exposition text (comments and malformed lines skipped).
std::vector<Sample> samples_of(std::string_view text) {
  std::vector<Sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos || name_end == 0) continue;
    Sample s{std::string(line.substr(0, name_end)), "", ""};
    std::size_t rest = name_end;
    if (line[rest] == '{') {
      bool quoted = false;
      std::size_t k = rest + 1;
      for (; k < line.size() && (quoted || line[k] != '}'); ++k) {
        if (quoted && line[k] == '\\') ++k;
        else if (line[k] == '"') quoted = !quoted;
      }
      if (k >= line.size()) continue;
      s.labels = std::string(line.substr(rest + 1, k - rest - 1));
      rest = k + 1;
    }
    const std::size_t value_at = line.find_first_not_of(' ', rest);
    if (value_at == std::string_view::npos) continue;
    s.value = std::string(line.substr(value_at, line.find(' ', value_at) - value_at));
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::string> read_previous(int dir_fd, const std::string& name) {
  const UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) return std::nullopt;
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  const ssize_t n = ::pread(fd.get(), text.data(), text.size(), 0);
  if (n < 0) return std::nullopt;
  text.resize(static_cast<std::size_t>(n));
  return text;
}

// What the destination says after the run: complete snapshots, and when the newest ended.
void read_destination(const std::string& root, RunMetrics& m, std::time_t& newest_success) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;
  try {
    const Destination dest = Destination::scan(root);
    const auto complete = dest.complete_snapshots();
    m.snapshots = complete.size();
    if (complete.empty()) return;
    const Snapshot& newest = *complete.back();
    const auto finished = newest.journal.find("finished");
    const auto when = finished != newest.journal.end() ? parse_timestamp(finished->second) : std::nullopt;
    newest_success = when.value_or(newest.time);
  } catch (const std::system_error& e) {
    spdlog::debug("metrics: cannot read {}: {}", root, e.what());
  }
}

}  // namespace

std::string metric_labels(std::string_view destination, std::string_view job) {
  std::string out = "destination=\"" + label_value(destination) + "\"";
  if (!job.empty()) out += ",job=\"" + label_value(job) + "\"";
  return out;
}

std::string render_metrics(const RunMetrics& run, std::string_view previous) {
  const std::string labels = metric_labels(run.destination, run.job);
  const std::vector<Sample> kept = samples_of(previous);
  std::string out;
  for (const Family& f : families()) {
    out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n";
    const std::string ours = std::string(f.name) + "{" + labels + "} " + f.value(run) + "\n";
    bool written = false;
    for (const Sample& s : kept) {
      if (s.name != f.name) continue;
      if (s.labels == labels) {
        if (!written) out += ours;
        written = true;
      } else {
        out += s.name + "{" + s.labels + "} " + s.value + "\n";
      }
    }
    if (!written) out += ours;
  }
  return out;
}

std::optional<double> previous_sample(std::string_view previous, std::string_view name, std::string_view labels) {
  for (const Sample& s : samples_of(previous)) {
    if (s.name != name || s.labels != labels) continue;
    double value = 0;
    const auto [end, err] = std::from_chars(s.value.data(), s.value.data() + s.value.size(), value);
    if (err == std::errc() && end == s.value.data() + s.value.size()) return value;
  }
  return std::nullopt;
}

void write_metrics_file(const std::string& file, const BackupReport& report) {
  const fs::path path(file);
  const std::string name = path.filename().string();
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  try {
    const UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd) throw_errno("cannot open " + dir.string());
    // Jobs of one `bkp run` may share the file: one read-merge-replace at a time.
    while (::flock(dir_fd.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
    RunMetrics m;
    m.destination = report.destination;
    m.job = report.job;
    m.ended = std::time(nullptr);
    m.success = report.status == "complete";
    m.exit_code = report.exit_code;
    m.seconds = report.seconds;
    m.transferred_bytes = report.bytes;
    m.transferred_files = report.files;
    m.added_bytes = report.space_added;
    std::time_t journal_success = 0;
    read_destination(report.destination, m, journal_success);
    const std::string previous = read_previous(dir_fd.get(), name).value_or("");
    const auto before = previous_sample(previous, "bkp_last_success_timestamp_seconds", metric_labels(m.destination, m.job));
    m.last_success = m.success ? m.ended : std::max(static_cast<std::time_t>(before.value_or(0)), journal_success);
    replace_file_atomically(dir_fd.get(), name, render_metrics(m, previous));
  } catch (const std::exception& e) {
    spdlog::error("--metrics-file {}: {}", file, e.what());
  }
}

}  // namespace bkp
