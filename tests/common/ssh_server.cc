#include "ssh_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "test_support.h"

namespace bkptest {
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";

void keygen(const fs::path& file) {
  const RunResult r = run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", file.filename().string(), "-f", file.string()});
  if (r.status != 0) throw std::runtime_error("ssh-keygen failed: " + r.err);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A port free on 127.0.0.1 and 127.0.0.2 right now (sshd binds it a moment later).
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  ::close(fd);
  return ntohs(a.sin_port);
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

SshServer::SshServer(const fs::path& dir) : dir_(dir) {
  if (::access(kSshd, X_OK) != 0) {
    skip_reason_ = std::string(kSshd) + " is not installed (scripts/install-deps installs openssh-server)";
    return;
  }
  fs::create_directories(dir_);
  // sshd's privilege separation directory; Debian creates it only when the service starts.
  ::mkdir("/run/sshd", 0755);
  keygen(dir_ / "host_key");
  write_file(dir_ / "authorized_keys", "", 0600);
  add_key("client");
  for (int attempt = 0; attempt < 5; ++attempt)
    if (start(free_port())) return;
  throw std::runtime_error("sshd did not start; its log:\n" + log());
}

bool SshServer::start(uint16_t port) {
  port_ = port;
  const std::string p = std::to_string(port);
  write_file(dir_ / "sshd_config",
             "Port " + p + "\n"
             "ListenAddress ::1\n"
             "ListenAddress 127.0.0.1\n"
             "ListenAddress 127.0.0.2\n"
             "HostKey " + (dir_ / "host_key").string() + "\n"
             "AuthorizedKeysFile " + (dir_ / "authorized_keys").string() + "\n"
             "PidFile " + (dir_ / "sshd.pid").string() + "\n"
             "PermitRootLogin prohibit-password\n"
             "PasswordAuthentication no\n"
             "KbdInteractiveAuthentication no\n"
             "UsePAM no\n"
             "StrictModes no\n"
             "MaxStartups 64\n"
             "LogLevel INFO\n");
  const std::string host_key = trimmed(read_file(dir_ / "host_key.pub"));
  write_file(dir_ / "known_hosts", "[127.0.0.1]:" + p + ",[127.0.0.2]:" + p + ",[::1]:" + p + " " + host_key + "\n");

  const std::string log_file = (dir_ / "sshd.log").string();
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = spawn({kSshd, "-D", "-e", "-f", (dir_ / "sshd_config").string()}, {}, log_fd, log_fd);
  ::close(log_fd);
  // Listening on the last address means it has tried all of them (they are bound in order).
  const std::string ready = "Server listening on 127.0.0.2 port " + p;
  bool listening = false, exited = false;
  eventually([&] {
    const std::string text = log();
    listening = text.find(ready) != std::string::npos;
    if (listening) ipv6_ = text.find("Server listening on ::1 port " + p) != std::string::npos;
    int status = 0;
    exited = !listening && ::waitpid(pid_, &status, WNOHANG) == pid_;  // e.g. the port was taken meanwhile
    return listening || exited;
  });
  if (listening) return true;
  if (exited) {
    pid_ = -1;
    return false;
  }
  throw std::runtime_error("sshd did not listen within a minute; its log:\n" + log());
}

SshServer::~SshServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    wait_for(pid_);
  }
}

fs::path SshServer::add_key(const std::string& name, const std::string& options) {
  const fs::path key = key_file(name);
  keygen(key);
  const std::string line = (options.empty() ? "" : options + " ") + trimmed(read_file(key.string() + ".pub"));
  write_file(dir_ / "authorized_keys", read_file(dir_ / "authorized_keys") + line + "\n", 0600);
  return key;
}

fs::path SshServer::unauthorized_key() {
  const fs::path key = key_file("unauthorized");
  if (!fs::exists(key)) keygen(key);
  return key;
}

std::string SshServer::rsh(const std::string& key, uint16_t port) const {
  return "ssh -F /dev/null -i " + key_file(key).string() + " -p " + std::to_string(port != 0 ? port : port_) +
         " -o UserKnownHostsFile=" + (dir_ / "known_hosts").string() +
         " -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes";
}

int SshServer::accepted_logins() const { return count(log(), "Accepted publickey for "); }

std::string SshServer::log() const {
  std::error_code ec;
  return fs::exists(dir_ / "sshd.log", ec) ? read_file(dir_ / "sshd.log") : std::string();
}

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  port_ = ntohs(a.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace bkptest
