#include "umount.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "errors.h"
#include "mountinfo.h"

extern char** environ;

namespace bkpfs {

namespace {

struct Outcome {
  int status = -1;
  std::string err;
};

// Runs fusermount3 -u on `path`, collecting what it writes to stderr.
Outcome run_fusermount(const std::string& path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {-1, std::strerror(errno)};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  const char* argv[] = {"fusermount3", "-u", "--", path.c_str(), nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "fusermount3", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  Outcome out;
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    out.err = std::string("cannot run fusermount3: ") + std::strerror(spawned);
    return out;
  }
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.err.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

}  // namespace

std::string translate_fusermount_error(const std::string& mountpoint, const std::string& message) {
  if (message.find("Device or resource busy") != std::string::npos)
    return mountpoint + ": busy (a process has a file or its working directory in it; close them and retry)";
  if (message.find("not found in /etc/mtab") != std::string::npos || message.find("not mounted") != std::string::npos)
    return mountpoint + ": not mounted";
  if (message.find("Permission denied") != std::string::npos || message.find("Operation not permitted") != std::string::npos)
    return mountpoint + ": permission denied (only root or the user who mounted it may unmount it)";
  if (message.find("invalid abs path") != std::string::npos || message.find("bad mount point") != std::string::npos)
    return mountpoint + ": cannot be resolved (" + message + ")";
  std::string line = message.substr(0, message.find('\n'));
  if (line.starts_with("fusermount3: ")) line.erase(0, 13);
  return mountpoint + ": cannot unmount" + (line.empty() ? "" : " (" + line + ")");
}

int unmount(const std::string& mountpoint) {
  namespace fs = std::filesystem;
  auto fail = [](const std::string& line) {
    std::cerr << "bkpfs: " << line << "\n";
    return bkp::kExitFailure;
  };
  // Absolute without resolving: stat() through a dead FUSE mount fails with ENOTCONN.
  std::error_code ec;
  const fs::path absolute = fs::absolute(mountpoint, ec).lexically_normal();
  if (ec) return fail(mountpoint + ": " + ec.message());
  const auto mounted = bkp::mount_at(absolute);
  if (!mounted) return fail(mountpoint + ": not mounted");
  if (mounted->type != kMountType)
    return fail(mountpoint + ": not a bkpfs mount (" + (mounted->type.empty() ? "unknown type" : mounted->type) +
                " is mounted there); bkpfs umount unmounts only bkpfs");
  const Outcome out = run_fusermount(mounted->mount_point);
  if (out.status == 0) return 0;
  return fail(translate_fusermount_error(mountpoint, out.err));
}

}  // namespace bkpfs
