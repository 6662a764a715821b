#include "mount_fixture.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "mountinfo.h"

namespace bkpfstest {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::string bkpfs_binary() { return env_or("BKPFS", "bkpfs"); }
std::string bkp_binary() { return env_or("BKP", ""); }

int run_as(uid_t uid, gid_t gid, const std::function<int()>& body) {
  pid_t pid = ::fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(125);
    ::_exit(body());
  }
  return bkptest::wait_for(pid);
}

std::string section(const std::string& name, const std::string& status, const std::string& backup) {
  std::string s = "[" + name + "]\n";
  s += "timestamp = " + name + "\n";
  s += "status = " + status + "\n";
  s += "sources = [\"/home/user/src\"]\n";
  s += "backup = " + backup + "\n";
  if (status == "complete") s += "cwd = /home/user\n";
  return s + "\n";
}

void write_journal(const fs::path& series_dir, const std::string& text) {
  fs::create_directories(series_dir);
  const fs::path tmp = series_dir / ".cfg.ini.tmp";
  write_file(tmp, text);
  fs::rename(tmp, series_dir / "cfg.ini");
}

fs::path add_snapshot(const fs::path& dest, const std::string& series, const std::string& name, bool complete) {
  const fs::path dir = dest / series / name;
  fs::create_directories(dir / "src");
  write_file(dir / "src" / "file.txt", "snapshot " + name + "\n");
  if (complete) {
    std::string journal;
    if (fs::exists(dest / series / "cfg.ini")) journal = read_file(dest / series / "cfg.ini");
    write_journal(dest / series, journal + section(name));
  }
  return dir;
}

std::string snapshot_name(int n) {
  std::tm base{};
  base.tm_year = 2026 - 1900;
  base.tm_mon = 10;
  base.tm_mday = 1;
  base.tm_isdst = -1;
  std::time_t t = std::mktime(&base) + n;
  std::tm local{};
  ::localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d_%H:%M:%S", &local);
  return buf;
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

bool is_mounted(const fs::path& mountpoint) { return bkp::mount_at(mountpoint).has_value(); }

int count_fds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); ++it)
    ++n;
  return n;
}

long rss_kib(pid_t pid) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}


std::uint64_t cache_drops() {
  std::istringstream vmstat(read_file("/proc/vmstat"));
  std::string key;
  std::uint64_t value = 0, drops = 0;
  while (vmstat >> key >> value)
    if (key == "drop_pagecache" || key == "drop_slab") drops += value;
  return drops;
}

Mount::Mount(const fs::path& dest, const fs::path& mountpoint, const std::vector<std::string>& extra)
    : mountpoint_(mountpoint), log_(mountpoint.parent_path() / (mountpoint.filename().string() + ".log")) {
  fs::create_directories(mountpoint_);
  const fs::path socket_path = mountpoint.parent_path() / (mountpoint.filename().string() + ".notify");
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  check(sock >= 0, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  ::unlink(socket_path.c_str());
  check(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, "bind " + socket_path.string());

  std::vector<std::string> argv{bkpfs_binary(), "mount", dest.string(), mountpoint.string(), "-f"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const int out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int err = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  check(out >= 0 && err >= 0, "open " + log_.string());
  RunOptions notify;
  notify.env["NOTIFY_SOCKET"] = socket_path.string();
  pid_ = bkptest::spawn(argv, notify, out, err);
  ::close(out);
  ::close(err);

  // READY=1 arrives once the mount is in place; give up early if bkpfs exits.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ready_ && std::chrono::steady_clock::now() < deadline) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 100) == 1) {
      char buf[64] = {};
      ssize_t n = ::recv(sock, buf, sizeof(buf) - 1, 0);
      ready_ = n > 0 && std::string(buf).find("READY=1") != std::string::npos;
    } else {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = bkptest::exit_status(status);
        pid_ = -1;
        break;
      }
    }
  }
  ::close(sock);
  ::unlink(socket_path.c_str());
  if (!ready_) ADD_FAILURE() << "bkpfs did not mount " << mountpoint_ << ": " << stderr_text();
}

Mount::~Mount() {
  if (is_mounted(mountpoint_)) run({"fusermount3", "-u", "-z", mountpoint_.string()});
  wait_exit(std::chrono::seconds(5));
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove(log_, ec);
}

std::string Mount::stderr_text() const { return read_file(log_); }

std::uint64_t Mount::checks() const {
  char value[32] = {};
  const ssize_t n = ::getxattr(mountpoint_.c_str(), "user.bkpfs.checks", value, sizeof(value) - 1);
  return n > 0 ? std::stoull(std::string(value, static_cast<std::size_t>(n))) : 0;
}

bool Mount::wait_for_check() const {
  const std::uint64_t start = checks();
  return eventually([&] { return checks() >= start + 2; }, std::chrono::seconds(10));
}

int Mount::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  const bool exited = eventually(
      [&] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
        exit_status_ = bkptest::exit_status(status);
        return true;
      },
      timeout);
  if (!exited) return -1;
  pid_ = -1;
  return exit_status_;
}

}  // namespace bkpfstest
