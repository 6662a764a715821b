// A real OpenSSH server for tests of remote sources: `sshd -D -e -f CONFIG` on a free port
// of 127.0.0.1, 127.0.0.2 and (when the machine has it) ::1, so that one server plays several
// "hosts". Its host key, client keys, authorized_keys, known_hosts and log live in a folder
// the test owns. The constructor returns once sshd listens on every address (its log says
// so); the destructor stops it by pid. Tests run as root, so the logins are root's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace bkptest {

namespace fs = std::filesystem;

class SshServer {
 public:
  explicit SshServer(const fs::path& dir);
  ~SshServer();
  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  // Non-empty when no sshd could be started here (not installed): the test should skip.
  const std::string& skip_reason() const { return skip_reason_; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool has_ipv6() const { return ipv6_; }

  // Makes a new client key NAME, authorized with authorized_keys `options` (e.g.
  // `command="rrsync -ro /",restrict`), and returns its private key file. "client" exists
  // from the start, without options.
  fs::path add_key(const std::string& name, const std::string& options = "");
  // A key that exists but is not authorized.
  fs::path unauthorized_key();

  // The ssh command line for bkp --rsh: key NAME, this server's port (or `port`), its host
  // key as the only known one, no user configuration, no prompts.
  std::string rsh(const std::string& key = "client", uint16_t port = 0) const;

  // Logins sshd has accepted so far, from its log.
  int accepted_logins() const;
  std::string log() const;

 private:
  fs::path key_file(const std::string& name) const { return dir_ / ("key-" + name); }
  bool start(uint16_t port);

  fs::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool ipv6_ = false;
  std::string skip_reason_;
};

// A port of 127.0.0.1 bound but not listening while the object lives, so that connections
// to it are refused: a host that is down, as ssh sees it.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace bkptest
