#include "session.h"

#include <memory>
#include <stdexcept>

namespace bkpfs {

Session::Session(const std::vector<std::string>& args, const fuse_lowlevel_ops& ops, void* userdata) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  fuse_args fargs = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  session_ = fuse_session_new(&fargs, &ops, sizeof(ops), userdata);
  fuse_opt_free_args(&fargs);
  if (!session_) throw std::runtime_error("cannot create the FUSE session (bad mount options?)");
}

Session::~Session() {
  if (mounted_) fuse_session_unmount(session_);
  fuse_session_destroy(session_);
}

void Session::mount(const std::string& mountpoint) {
  if (fuse_session_mount(session_, mountpoint.c_str()) != 0)
    throw std::runtime_error("cannot mount on " + mountpoint);
  mounted_ = true;
}

int Session::loop(unsigned threads) {
  std::unique_ptr<fuse_loop_config, void (*)(fuse_loop_config*)> config(fuse_loop_cfg_create(),
                                                                         fuse_loop_cfg_destroy);
  fuse_loop_cfg_set_max_threads(config.get(), threads);
  fuse_loop_cfg_set_idle_threads(config.get(), threads);
  fuse_loop_cfg_set_clone_fd(config.get(), 0);
  return fuse_session_loop_mt(session_, config.get());
}

SignalHandlers::SignalHandlers(fuse_session* session) : session_(session) {
  if (fuse_set_signal_handlers(session_) != 0) throw std::runtime_error("cannot install signal handlers");
}

SignalHandlers::~SignalHandlers() { fuse_remove_signal_handlers(session_); }

}  // namespace bkpfs
