// The one place where C++ exceptions stop: every FUSE operation is wrapped so that a
// std::system_error becomes its errno, anything else EIO, and nothing unwinds into
// libfuse's C code. Operations reply as their last step, so a throw means "not replied".
#pragma once

#include <fuse_lowlevel.h>

#include <cerrno>
#include <exception>
#include <system_error>

#include <spdlog/spdlog.h>

namespace bkpfs {

inline int errno_of(const std::system_error& e) {
  const int value = e.code().value();
  const bool posix = e.code().category() == std::generic_category() || e.code().category() == std::system_category();
  return posix && value > 0 ? value : EIO;
}

// Runs `op`; returns the errno to reply with, or 0 when `op` replied itself.
template <typename Op>
int run_guarded(const char* name, Op&& op) noexcept {
  try {
    op();
    return 0;
  } catch (const std::system_error& e) {
    const int err = errno_of(e);
    if (err == ENOENT || err == ENODATA || err == ENOTSUP)
      spdlog::trace("{}: {}", name, e.what());
    else
      spdlog::debug("{}: {}", name, e.what());
    return err;
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", name, e.what());
  } catch (...) {
    spdlog::error("{}: unknown exception", name);
  }
  return EIO;
}

template <auto Op>
struct Guard;

// For operations that reply: a failure is replied as an error.
template <typename... Args, void (*Op)(fuse_req_t, Args...)>
struct Guard<Op> {
  static void call(fuse_req_t req, Args... args) noexcept {
    if (int err = run_guarded("fuse op", [&] { Op(req, args...); })) fuse_reply_err(req, err);
  }
};

// For forget and friends, which must always be answered with fuse_reply_none.
template <auto Op>
struct GuardNoReply;

template <typename... Args, void (*Op)(fuse_req_t, Args...)>
struct GuardNoReply<Op> {
  static void call(fuse_req_t req, Args... args) noexcept {
    run_guarded("forget", [&] { Op(req, args...); });
    fuse_reply_none(req);
  }
};

}  // namespace bkpfs
