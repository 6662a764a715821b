// A file descriptor owned by exactly one object, closed when that object goes away.
#pragma once

#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <cerrno>
#include <unistd.h>

#include "errors.h"
#include "unique_fd.h"

namespace bkpfs {

using UniqueFd = bkp::UniqueFd;

// Shared so that a descriptor evicted from a cache stays open until the request using it
// has finished (a splice reply may still be reading from it).
using SharedFd = std::shared_ptr<const UniqueFd>;

using bkp::throw_errno;
using bkp::throw_error;

// Returns `fd` wrapped, or throws for errno when it is negative.
inline UniqueFd check_fd(int fd, const std::string& what) {
  if (fd < 0) throw_errno(what);
  return UniqueFd(fd);
}

}  // namespace bkpfs
