#include "test_support.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bkptest {

TempDir::TempDir() {
  // /var/tmp is on disk on every Debian set-up; /tmp may be tmpfs.
  std::string tmpl = (fs::path("/var/tmp") / "bkp-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Make everything removable again (tests create 000 folders).
  for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
  fs::remove_all(path_, ec);
}

namespace {

std::string slurp_fd(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

pid_t spawn(const std::vector<std::string>& argv, const RunOptions& options, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    if (options.uid != static_cast<uid_t>(-1)) {
      const passwd* pw = ::getpwuid(options.uid);
      const gid_t gid = pw ? pw->pw_gid : options.uid;
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(options.uid) != 0) ::_exit(126);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int exit_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_status(status);
}

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  // Output goes to unlinked temporary files, so neither pipe can fill up and block.
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  RunResult result;
  result.status = wait_for(spawn(argv, options, fileno(out), fileno(err)));
  std::rewind(out);
  std::rewind(err);
  result.out = slurp_fd(fileno(out));
  result.err = slurp_fd(fileno(err));
  std::fclose(out);
  std::fclose(err);
  return result;
}

void write_file(const fs::path& file, const std::string& content, mode_t mode) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  ::chmod(file.c_str(), mode);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_big_file(const fs::path& file, std::uint64_t size, char seed) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  std::vector<std::uint64_t> block(1 << 17);  // 1 MiB
  const std::uint64_t salt = 0x5555 + static_cast<unsigned char>(seed);
  for (std::uint64_t done = 0, n = 0; done < size; ++n) {
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = (n << 32) ^ (i * 0x9e3779b97f4a7c15ULL) ^ salt;
    const auto chunk = std::min<std::uint64_t>(size - done, block.size() * 8);
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(chunk));
    done += chunk;
  }
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::uint64_t digest(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string());
  std::vector<std::uint64_t> buf(1 << 17);
  std::uint64_t h = 0xcbf29ce484222325ULL, total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size() * 8);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot read " + file.string());
    if (n == 0) break;
    if (n % 8) std::memset(reinterpret_cast<char*>(buf.data()) + n, 0, 8 - n % 8);
    for (std::size_t i = 0; i < (static_cast<std::size_t>(n) + 7) / 8; ++i) h = (h ^ buf[i]) * 0x100000001b3ULL;
    total += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return h ^ total;
}

namespace {

std::string xattrs_of(const fs::path& p) {
  char names[4096];
  const ssize_t n = ::llistxattr(p.c_str(), names, sizeof names);
  if (n <= 0) return "";
  std::vector<std::string> list;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) list.emplace_back(names + i);
  std::sort(list.begin(), list.end());
  std::string out;
  for (const auto& name : list) {
    char value[4096];
    const ssize_t len = ::lgetxattr(p.c_str(), name.c_str(), value, sizeof value);
    out += " " + name + "=" + (len > 0 ? std::string(value, static_cast<size_t>(len)) : "");
  }
  return out;
}

}  // namespace

std::string manifest(const fs::path& root, bool with_inode_groups, bool with_xattrs) {
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    paths.push_back(it->path());
  std::sort(paths.begin(), paths.end());
  std::map<ino_t, std::string> first_name;  // inode -> first path holding it
  std::ostringstream out;
  for (const auto& p : paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("cannot lstat " + p.string());
    const std::string rel = p.lexically_relative(root).string();
    out << rel << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid;
    if (!S_ISDIR(st.st_mode)) out << " size=" << st.st_size;
    // rsync keeps the times of files; those of symlinks and special files are not portable.
    if (S_ISREG(st.st_mode))
      out << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec << " data=" << std::hex << digest(p)
          << std::dec << " blocks=" << (st.st_blocks > 0);
    if (S_ISLNK(st.st_mode)) out << " -> " << fs::read_symlink(p).string();
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) out << " rdev=" << st.st_rdev;
    if (with_xattrs) out << xattrs_of(p);
    if (with_inode_groups && !S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = first_name.emplace(st.st_ino, rel);
      out << " nlink=" << st.st_nlink;
      if (!fresh) out << " same-inode-as=" << it->second;
    }
    out << "\n";
  }
  return out.str();
}

LoopFilesystem::LoopFilesystem(const fs::path& dir, const std::string& type, std::uint64_t size_mib,
                               const std::vector<std::string>& mkfs_args)
    : mnt_(dir / type) {
  const fs::path image = dir / (type + ".img");
  fs::create_directories(mnt_);
  { std::ofstream(image).close(); }
  fs::resize_file(image, size_mib << 20);
  std::vector<std::string> mkfs = {"mkfs." + type};
  mkfs.insert(mkfs.end(), mkfs_args.begin(), mkfs_args.end());
  mkfs.push_back(image.string());
  const auto made = run(mkfs);
  if (made.status != 0) {
    skip_reason_ = "mkfs." + type + " failed or is missing: " + made.err;
    return;
  }
  const auto mount = run({"mount", "-o", "loop", image.string(), mnt_.string()});
  if (mount.status != 0) {
    skip_reason_ = "cannot loop-mount " + type + " here (no loop devices?): " + mount.err;
    return;
  }
  mounted_ = true;
}

LoopFilesystem::~LoopFilesystem() {
  if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
}

std::uint64_t LoopFilesystem::used() const {
  ::sync();
  struct statvfs st {};
  ::statvfs(mnt_.c_str(), &st);
  return (st.f_blocks - st.f_bfree) * st.f_frsize;
}

std::vector<pid_t> child_processes(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) children.push_back(std::stoi(pid));
  }
  return children;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // spaces the looks out; see the header
  }
  return true;
}

bool wait_until_no_process_mentions(const std::string& needle) {
  return eventually([&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string pid = e.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
      std::ifstream in(e.path() / "cmdline", std::ios::binary);
      const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
      if (cmdline.find(needle) != std::string::npos) return false;
    }
    return true;
  });
}

}  // namespace bkptest
