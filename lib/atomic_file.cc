#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "errors.h"
#include "unique_fd.h"

namespace bkp {
namespace {

void write_all(int fd, const std::string& text, const std::string& what) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot write " + what);
    done += static_cast<size_t>(n);
  }
}

void fill_and_close(UniqueFd fd, const std::string& text, const std::string& what,
                    Durability durability = Durability::fsync) {
  write_all(fd.get(), text, what);
  if (durability == Durability::fsync && ::fsync(fd.get()) != 0) throw_errno("cannot write " + what);
  if (::close(fd.release()) != 0) throw_errno("cannot write " + what);
}

}  // namespace

void replace_file_atomically(int dir_fd, const std::string& name, const std::string& text, unsigned mode,
                             Durability durability) {
  std::random_device random;
  std::string tmp;
  UniqueFd fd;
  for (int attempt = 0; !fd; ++attempt) {
    tmp = "." + name + "." + std::to_string(::getpid()) + "." + std::to_string(random() % 1000000) + ".tmp";
    fd = UniqueFd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd && (errno != EEXIST || attempt > 100)) throw_errno("cannot write " + tmp);
  }
  try {
    fill_and_close(std::move(fd), text, tmp, durability);
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) throw_errno("cannot replace " + name);
  } catch (...) {
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    throw;
  }
  if (durability == Durability::fsync) ::fsync(dir_fd);
}

void write_new_file(int dir_fd, const std::string& name, const std::string& text, unsigned mode) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) throw_errno("cannot create " + name);
  fill_and_close(std::move(fd), text, name);
  ::fsync(dir_fd);
}

}  // namespace bkp
