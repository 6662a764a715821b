#include "rsync_runner.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "child_process.h"
#include "rsync_command.h"
#include "errors.h"

namespace bkp {
namespace {

std::atomic<pid_t> g_child{0};

void forward_signal(int sig) {
  const pid_t child = g_child.load();
  if (child > 0) ::kill(child, sig);
}

// Passes SIGINT/SIGTERM on to rsync while it runs, so bkp itself lives to record the outcome.
class ForwardSignals {
 public:
  ForwardSignals() {
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~ForwardSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

uint64_t number_after_colon(const std::string& line) {
  uint64_t value = 0;
  const auto colon = line.find(':');
  for (size_t i = colon + 1; i < line.size(); ++i) {
    if (line[i] >= '0' && line[i] <= '9') value = value * 10 + static_cast<uint64_t>(line[i] - '0');
    else if (line[i] != ',' && line[i] != ' ') break;
  }
  return value;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

RsyncOutcome classify_rsync_exit(int exit_code) {
  switch (exit_code) {
    case 0: return RsyncOutcome::complete;
    case 24: return RsyncOutcome::complete_vanished;
    case 23: return RsyncOutcome::complete_unreadable;
    default: return RsyncOutcome::failed;
  }
}

RsyncOutcome classify_rsync_result(const RsyncResult& result) {
  const RsyncOutcome by_code = classify_rsync_exit(result.exit_code);
  if (by_code != RsyncOutcome::failed && result.destination_errors > 0) return RsyncOutcome::failed;
  return by_code;
}

RsyncErrorSide classify_rsync_error_line(const std::string& line) {
  if (starts_with(line, "filename overflows max-path len")) return RsyncErrorSide::path_too_long;
  if (!starts_with(line, "rsync:") || starts_with(line, "rsync error:")) return RsyncErrorSide::none;
  std::string role = line.substr(6, 12);
  for (char& c : role) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (role.starts_with(" [sender]")) return RsyncErrorSide::source;
  if (role.starts_with(" [receiver]") || role.starts_with(" [generator]")) return RsyncErrorSide::destination;
  for (const char* disk_trouble : {"(28)", "(122)", "(5)", "(30)"})  // ENOSPC EDQUOT EIO EROFS
    if (line.ends_with(disk_trouble)) return RsyncErrorSide::destination;
  return RsyncErrorSide::source;
}

void parse_rsync_stats_line(const std::string& line, RsyncResult& result) {
  if (starts_with(line, "Number of regular files transferred:")) result.files = number_after_colon(line);
  else if (starts_with(line, "Total transferred file size:")) result.bytes = number_after_colon(line);
  else if (starts_with(line, "Number of files:")) result.total_files = number_after_colon(line);
}

bool parse_rsync_checksum_line(const std::string& line, RsyncResult& result) {
  if (!line.starts_with(kChecksumLinePrefix)) return false;
  const std::string_view rest = std::string_view(line).substr(kChecksumLinePrefix.size());
  if (rest.size() < 34 || rest[32] != ' ') return true;
  const std::optional<Checksum> sum = Checksum::from_hex(rest.substr(0, 32));
  const std::string_view path = rest.substr(33);
  if (sum && path.find('\\') == std::string_view::npos) result.written_checksums.insert_or_assign(std::string(path), *sum);
  return true;
}

RsyncResult run_rsync(const std::vector<std::string>& argv, bool progress_to_terminal) {
  RsyncResult result;
  ForwardSignals forwarding;
  Child child = spawn_child(argv);
  g_child = child.pid;

  bool progress_shown = false;
  auto on_output = [&](const std::string& line, bool progress) {
    if (progress && progress_to_terminal) {
      std::fprintf(stderr, "\r%s", line.c_str());
      progress_shown = true;
    } else if (!progress && !parse_rsync_checksum_line(line, result)) {
      parse_rsync_stats_line(line, result);
      spdlog::debug("rsync: {}", line);
    }
  };
  // The first error lines are shown; a full disk can make rsync report thousands.
  constexpr uint64_t kErrorsShown = 10;
  uint64_t errors_seen = 0;
  auto on_error = [&](const std::string& line, bool) {
    if (progress_shown) std::fputc('\n', stderr), progress_shown = false;
    switch (classify_rsync_error_line(line)) {
      case RsyncErrorSide::destination:
        if (result.destination_errors++ == 0) result.first_destination_error = line;
        break;
      case RsyncErrorSide::source: ++result.source_errors; break;
      case RsyncErrorSide::path_too_long: ++result.paths_too_long; break;
      case RsyncErrorSide::none: break;
    }
    if (!starts_with(line, "rsync")) result.last_shell_message = line;
    if (++errors_seen <= kErrorsShown) spdlog::warn("{}", line);
    else spdlog::debug("{}", line);
  };
  const int status = stream_child(child, on_output, on_error);
  if (progress_shown) std::fputc('\n', stderr);
  if (errors_seen > kErrorsShown)
    spdlog::warn("rsync reported {} more errors (all of them are in the log with -v or --log-file)",
                 errors_seen - kErrorsShown);

  g_child = 0;
  result.exit_code = status;
  return result;
}

}  // namespace bkp
