// RAII around libfuse's session: created, mounted, run, and on destruction unmounted and
// destroyed in the right order, whatever path main() leaves by.
#pragma once

#include <fuse_lowlevel.h>

#include <string>
#include <vector>

namespace bkpfs {

class Session {
 public:
  // `args` as for fuse_session_new (argv[0] first); throws std::runtime_error.
  Session(const std::vector<std::string>& args, const fuse_lowlevel_ops& ops, void* userdata);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void mount(const std::string& mountpoint);  // throws std::runtime_error
  // Serves requests on `threads` worker threads until unmounted or signalled.
  int loop(unsigned threads);
  fuse_session* get() const { return session_; }

 private:
  fuse_session* session_ = nullptr;
  bool mounted_ = false;
};

// SIGTERM, SIGINT and SIGHUP end the loop, after which the Session unmounts.
class SignalHandlers {
 public:
  explicit SignalHandlers(fuse_session* session);
  ~SignalHandlers();
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;

 private:
  fuse_session* session_;
};

}  // namespace bkpfs
