#include "harness.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

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

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  // Output goes to unlinked temporary files, so neither pipe can fill up and block.
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fileno(out), STDOUT_FILENO);
    ::dup2(fileno(err), STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    if (options.uid != static_cast<uid_t>(-1)) {
      const passwd* pw = ::getpwuid(options.uid);
      const gid_t gid = pw ? pw->pw_gid : options.uid;
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(options.uid) != 0) ::_exit(126);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  RunResult result;
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::rewind(out);
  std::rewind(err);
  result.out = slurp_fd(fileno(out));
  result.err = slurp_fd(fileno(err));
  std::fclose(out);
  std::fclose(err);
  return result;
}

std::string bkp_binary() {
  const char* b = std::getenv("BKP");
  return b ? b : "bkp";
}

std::string fake_rsync() {
  const char* f = std::getenv("FAKE_RSYNC");
  return f ? f : "fake-rsync";
}

namespace {

// Another user may not be able to reach the build folder (a clone in a 0700 home, say),
// so runs as another user get a copy of bkp in a world-readable temporary folder.
std::string bkp_binary_for_others() {
  static TempDir dir;
  static const std::string copy = [] {
    const fs::path to = dir / "bkp";
    fs::copy_file(bkp_binary(), to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
    return to.string();
  }();
  return copy;
}

}  // namespace

RunResult run_bkp(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {options.uid == static_cast<uid_t>(-1) ? bkp_binary() : bkp_binary_for_others()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

void write_file(const fs::path& file, const std::string& content, mode_t mode) {
  fs::create_directories(file.parent_path());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ::chmod(file.c_str(), mode);
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_big_file(const fs::path& file, uint64_t size, char seed) {
  fs::create_directories(file.parent_path());
  std::string block(1 << 20, seed);
  for (size_t i = 0; i < block.size(); i += 4096) block[i] = static_cast<char>(seed + i / 4096);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (uint64_t done = 0; done < size; done += block.size())
    out.write(block.data(), static_cast<std::streamsize>(std::min<uint64_t>(block.size(), size - done)));
}

namespace {

uint64_t fnv1a(const fs::path& file) {
  uint64_t h = 1469598103934665603ull;
  std::ifstream in(file, std::ios::binary);
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 1099511628211ull;
    if (!in) break;
  }
  return h;
}

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

std::string manifest(const fs::path& root, bool with_inode_groups) {
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    paths.push_back(it->path());
  std::sort(paths.begin(), paths.end());
  std::map<ino_t, std::string> first_name;  // inode -> first path holding it
  std::ostringstream out;
  for (const auto& p : paths) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    const std::string rel = p.lexically_relative(root).string();
    out << rel << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid;
    if (!S_ISDIR(st.st_mode)) out << " size=" << st.st_size;
    // rsync keeps the times of files; those of symlinks and special files are not portable.
    if (S_ISREG(st.st_mode))
      out << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec << " data=" << std::hex << fnv1a(p)
          << std::dec << " blocks=" << (st.st_blocks > 0);
    if (S_ISLNK(st.st_mode)) out << " -> " << fs::read_symlink(p).string();
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) out << " rdev=" << st.st_rdev;
    out << xattrs_of(p);
    if (with_inode_groups && !S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = first_name.emplace(st.st_ino, rel);
      out << " nlink=" << st.st_nlink;
      if (!fresh) out << " same-inode-as=" << it->second;
    }
    out << "\n";
  }
  return out.str();
}

std::string destination_state(const fs::path& dest) {
  if (!fs::exists(dest)) return "<missing>";
  std::string state = manifest(dest);
  for (const auto& entry : fs::directory_iterator(dest))
    if (fs::exists(entry.path() / "cfg.ini")) state += "--- " + entry.path().filename().string() + "\n" + read_file(entry.path() / "cfg.ini");
  return state;
}

Layout layout(const fs::path& dest) {
  Layout l;
  for (const auto& e : fs::directory_iterator(dest))
    if (fs::exists(e.path() / "cfg.ini")) l.series.push_back(e.path().filename().string());
  if (fs::exists(dest / "0"))
    for (const auto& e : fs::directory_iterator(dest / "0"))
      if (e.is_directory() && e.path().filename().string().size() == 19) l.snapshots.push_back(e.path().filename().string());
  std::sort(l.series.begin(), l.series.end());
  std::sort(l.snapshots.begin(), l.snapshots.end());
  return l;
}

std::string journal(const fs::path& dest, const std::string& series) { return read_file(dest / series / "cfg.ini"); }

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_ino;
}

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace bkptest
