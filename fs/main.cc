// bkpfs: mounts a bkp destination read-only as a timeline (see man/bkpfs.1).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include "fd.h"
#include "filesystem.h"
#include "ops.h"
#include "options.h"
#include "passthrough.h"
#include "prefetch.h"
#include "timestamp.h"
#include "preflight.h"
#include "session.h"
#include "timeline.h"
#include "umount.h"

namespace bkpfs {
namespace {

using bkp::kExitFailure;
using bkp::kExitUsage;
constexpr auto kRefreshPeriod = std::chrono::milliseconds(500);

void use_logger(std::shared_ptr<spdlog::logger> logger, Verbosity v) {
  logger->set_level(v == Verbosity::Verbose ? spdlog::level::debug
                    : v == Verbosity::Quiet ? spdlog::level::err
                                            : spdlog::level::warn);
  logger->set_pattern("bkpfs: %v");
  spdlog::set_default_logger(std::move(logger));
}

// Tells a supervisor that started us with NOTIFY_SOCKET (systemd Type=notify, or the
// tests) that the mount is in place.
void notify_ready() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract socket
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const char msg[] = "READY=1";
  if (fd) ::sendto(fd.get(), msg, sizeof(msg) - 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
}

// What the read accelerators did, for -v (the tests read it).
void log_accelerator_stats(const Passthrough* passthrough, const Prefetcher* prefetcher) {
  if (passthrough) {
    const Passthrough::Stats s = passthrough->stats();
    spdlog::debug("passthrough: {} opens, {} releases, {} backing files opened, {} closed", s.opens, s.releases,
                  s.backing_opened, s.backing_closed);
  }
  if (prefetcher) {
    const Prefetcher::Stats s = prefetcher->stats();
    spdlog::debug("prefetch: {} windows, {} files, {} bytes read ahead, {} stored, largest window {}, {} dropped",
                  s.windows, s.files, s.bytes, s.stored_bytes, s.largest_window, s.dropped);
  }
}

int run_mount(const Options& opt) {
  namespace fs = std::filesystem;
  const fs::path dest = fs::absolute(opt.dest).lexically_normal();
  const fs::path mountpoint = fs::absolute(opt.mountpoint).lexically_normal();
  try {
    check_destination(dest);
    check_mountpoint(mountpoint);
    check_fuse_device();
  } catch (const Refusal& r) {
    std::cerr << "bkpfs: " << r.what() << "\n";
    return kExitFailure;
  }
  if (has_entries(mountpoint) && opt.mount.verbosity != Verbosity::Quiet)
    std::cerr << "bkpfs: warning: mount point " << mountpoint.string()
              << " is not empty: its files are hidden while bkpfs is mounted there\n";
  use_logger(spdlog::stderr_logger_mt("bkpfs"), opt.mount.verbosity);
  for (const std::string& o : opt.mount.dropped) spdlog::debug("ignoring mount option '{}'", o);

  Options named = opt;
  named.dest = dest.string();
  try {
    const auto started = std::chrono::steady_clock::now();
    TimelineWatcher watcher(dest);  // reads folder names and journals only
    UniqueFd dest_fd = check_fd(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), dest.string());
    Tuning tuning;
    tuning.answer_opendir = std::find(opt.mount.fuse.begin(), opt.mount.fuse.end(), "auto_unmount") != opt.mount.fuse.end();
    Filesystem filesystem(std::move(dest_fd), watcher, tuning);
    std::optional<Passthrough> passthrough;  // the read accelerators the options ask for
    if (opt.mount.passthrough) passthrough.emplace();
    std::optional<Prefetcher> prefetcher;
    if (opt.mount.prefetch_bytes > 0)
      prefetcher.emplace(filesystem, PrefetchLimits{opt.mount.prefetch_bytes}, passthrough ? &*passthrough : nullptr);
    SessionData session_data{filesystem, passthrough ? &*passthrough : nullptr, prefetcher ? &*prefetcher : nullptr};
    const fuse_lowlevel_ops ops = make_operations();
    Session session(fuse_arguments(named), ops, &session_data);
    session.mount(mountpoint.string());
    if (passthrough) passthrough->attach(session.get());
    spdlog::debug("mounted {} snapshots in {} ms", watcher.current()->snapshot_count(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                      .count());
    if (!opt.foreground) {
      // The mount exists before the fork, so the parent exits with a usable mount; the
      // kernel queues requests until the loop below starts. Threads start after the fork.
      if (fuse_daemonize(0) != 0) throw std::runtime_error("cannot detach");
      use_logger(std::make_shared<spdlog::logger>("bkpfs", std::make_shared<spdlog::sinks::syslog_sink_mt>(
                                                               "bkpfs", LOG_PID, LOG_DAEMON, false)),
                 opt.mount.verbosity);
    }
    notify_ready();
    SignalHandlers signals(session.get());
    watcher.start(kRefreshPeriod, [&](const Timeline& before, const Timeline& after) {
      for (const Invalidation& i : filesystem.timeline_changed(before, after)) {
        if (i.name.empty())
          fuse_lowlevel_notify_inval_inode(session.get(), i.node, 0, 0);  // attributes, listing, content, link
        else
          fuse_lowlevel_notify_inval_entry(session.get(), i.node, i.name.c_str(), i.name.size());
      }
    });
    if (prefetcher) prefetcher->start(session.get());
    // The watcher and prefetch threads use the session: they stop first, however this scope ends.
    struct StopWatcher {
      TimelineWatcher& w;
      std::optional<Prefetcher>& p;
      ~StopWatcher() {
        w.stop();
        if (p) p->stop();
      }
    } stop_watcher{watcher, prefetcher};
    const unsigned threads = std::max(4u, std::min(16u, 2 * std::thread::hardware_concurrency()));
    const int rc = session.loop(threads);
    // libfuse reports the signal that ended the loop; being asked to stop is a clean exit.
    const bool clean = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP;
    if (!clean) spdlog::error("FUSE loop failed ({})", rc);
    log_accelerator_stats(passthrough ? &*passthrough : nullptr, prefetcher ? &*prefetcher : nullptr);
    return clean ? 0 : kExitFailure;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}

}  // namespace
}  // namespace bkpfs

int main(int argc, char** argv) {
  using namespace bkpfs;
  bkp::init_local_time();
  Options opt;
  try {
    opt = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "bkpfs: " << e.what() << "\n";
    return kExitUsage;
  }
  switch (opt.command) {
    case Command::Help:
      std::cout << usage();
      return 0;
    case Command::Version:
      std::cout << "bkpfs " << BKP_VERSION << " (libfuse " << fuse_pkgversion() << ")\n";
      return 0;
    case Command::Umount:
      return unmount(opt.mountpoint);
    case Command::Mount:
      return run_mount(opt);
  }
  return kExitUsage;
}
