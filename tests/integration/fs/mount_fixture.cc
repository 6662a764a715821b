#include "mount_fixture.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace bkpfstest {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

// fork + exec with stdout/stderr sent to files and `env` added to the environment.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || n < 0) ::_exit(126);
    ::dup2(n, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string bkpfs_binary() { return env_or("BKPFS", "bkpfs"); }
std::string bkp_binary() { return env_or("BKP", ""); }

TempDir::TempDir() {
  std::string tmpl = "/tmp/bkpfs-test-XXXXXX";
  check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  path_ = tmpl;
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  TempDir logs;
  pid_t pid = spawn(argv, env, logs / "out", logs / "err");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return RunResult{decode(status), read_file(logs / "out"), read_file(logs / "err")};
}

int run_as(uid_t uid, gid_t gid, const std::function<int()>& body) {
  pid_t pid = ::fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(125);
    ::_exit(body());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode(status);
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

void write_file(const fs::path& file, const std::string& content, mode_t mode) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  check(fd >= 0, "create " + file.string());
  const bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ::fchmod(fd, mode);
  ::close(fd);
  check(ok, "write " + file.string());
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_pattern_file(const fs::path& file, std::uint64_t size) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(fd >= 0, "create " + file.string());
  std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
  for (std::uint64_t done = 0, n = 0; done < size; ++n) {
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = (n << 32) ^ (i * 0x9e3779b97f4a7c15ULL) ^ 0x5555;
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, block.size() * 8));
    check(::write(fd, block.data(), chunk) == static_cast<ssize_t>(chunk), "write " + file.string());
    done += chunk;
  }
  ::close(fd);
}

std::uint64_t digest(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "open " + file.string());
  std::vector<std::uint64_t> buf(1 << 17);
  std::uint64_t h = 0xcbf29ce484222325ULL, total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size() * 8);
    if (n < 0 && errno == EINTR) continue;
    check(n >= 0, "read " + file.string());
    if (n == 0) break;
    if (n % 8) std::memset(reinterpret_cast<char*>(buf.data()) + n, 0, 8 - n % 8);
    for (std::size_t i = 0; i < (static_cast<std::size_t>(n) + 7) / 8; ++i) h = (h ^ buf[i]) * 0x100000001b3ULL;
    total += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return h ^ total;
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

std::string manifest(const fs::path& root) {
  std::map<std::string, std::string> lines;
  std::map<std::pair<dev_t, ino_t>, std::set<std::string>> links;
  std::vector<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = it->path().lexically_relative(root).string();
    struct stat st {};
    check(::lstat(it->path().c_str(), &st) == 0, "lstat " + it->path().string());
    std::ostringstream line;
    line << rel << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid
         << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
      line << " size=" << st.st_size << " digest=" << digest(it->path());
      if (st.st_nlink > 1) links[{st.st_dev, st.st_ino}].insert(rel);
    } else if (S_ISLNK(st.st_mode)) {
      line << " -> " << fs::read_symlink(it->path()).string();
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      line << " rdev=" << st.st_rdev;
    }
    lines[rel] = line.str();
  }
  for (const auto& [inode, group] : links) {
    if (group.size() < 2) continue;  // linked only to files outside this tree
    std::string others;
    for (const std::string& p : group) others += " " + p;
    for (const std::string& p : group) lines[p] += " links:" + others;
  }
  std::string out;
  for (const auto& [rel, line] : lines) out += line + "\n";
  return out;
}

bool is_mounted(const fs::path& mountpoint) {
  const std::string text = read_file("/proc/self/mountinfo");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string a, b, c, d, mp;
    if (fields >> a >> b >> c >> d >> mp && mp == mountpoint.string()) return true;
  }
  return false;
}

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

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
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
  pid_ = spawn(argv, {{"NOTIFY_SOCKET", socket_path.string()}}, "/dev/null", log_);

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
        exit_status_ = decode(status);
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

int Mount::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = decode(status);
      pid_ = -1;
      return exit_status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

}  // namespace bkpfstest
