#include "content_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <thread>

#include "beneath.h"
#include "unique_fd.h"

namespace bkp {
namespace {

constexpr size_t kReadSize = 1 << 20;

struct StateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};

// Reading must not change what it reads, not even the access time where that can be
// avoided (O_NOATIME needs the file's owner or CAP_FOWNER). O_NONBLOCK: a FIFO planted
// where a file was recorded must not hang the reader.
UniqueFd open_to_read(int root_fd, const std::string& path) {
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
  UniqueFd fd(open_beneath(root_fd, path, kFlags | O_NOATIME));
  if (!fd && errno == EPERM) fd = UniqueFd(open_beneath(root_fd, path, kFlags));
  return fd;
}

}  // namespace

std::string Checksum::hex() const {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH128_hash_t{low, high});
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    out[2 * i] = kDigits[canonical.digest[i] >> 4];
    out[2 * i + 1] = kDigits[canonical.digest[i] & 15];
  }
  return out;
}

std::optional<Checksum> Checksum::from_hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  uint64_t half[2] = {0, 0};  // big-endian: the high 64 bits first, as hex() prints them
  for (size_t i = 0; i < 32; ++i) {
    const int d = digit(hex[i]);
    if (d < 0) return std::nullopt;
    half[i / 16] = half[i / 16] << 4 | static_cast<uint64_t>(d);
  }
  return Checksum{half[0], half[1]};
}

Checksum hash_bytes(std::string_view data) {
  const XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return {h.high64, h.low64};
}

namespace {

// `size` is the file's size as fstat saw it, for the read-ahead hint only.
std::optional<Checksum> hash_regular_file(int fd, off_t size, uint64_t* bytes) {
  thread_local std::unique_ptr<char[]> buffer(new char[kReadSize]);
  thread_local std::unique_ptr<XXH3_state_t, StateDeleter> state(XXH3_createState());
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) {
    errno = ENOMEM;
    return std::nullopt;
  }
  if (size > static_cast<off_t>(kReadSize)) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);  // small: one read
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.get(), kReadSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    XXH3_128bits_update(state.get(), buffer.get(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  if (bytes != nullptr) *bytes = total;
  const XXH128_hash_t h = XXH3_128bits_digest(state.get());
  return Checksum{h.high64, h.low64};
}

}  // namespace

std::optional<Checksum> hash_open_file(int fd, uint64_t* bytes) {
  struct stat st {};
  return hash_regular_file(fd, ::fstat(fd, &st) == 0 ? st.st_size : 0, bytes);
}

std::vector<HashResult> hash_files(const std::vector<HashTask>& tasks, const HashOptions& options,
                                   const std::function<void(size_t, const HashResult&)>& done) {
  std::vector<HashResult> results(tasks.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < tasks.size();) {
      HashResult& r = results[i];
      UniqueFd fd = open_to_read(tasks[i].root_fd, tasks[i].path);
      struct stat st {};
      if (fd && (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        fd.reset();
      }
      if (!fd) {
        r.error = errno;
      } else {
        r.sum = hash_regular_file(fd.get(), st.st_size, &r.bytes);
        if (!r.sum) r.error = errno;
        if (options.drop_cache) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
      }
      if (done) done(i, r);
    }
  };
  const unsigned threads = std::max(1u, std::min<unsigned>(options.threads, static_cast<unsigned>(tasks.size())));
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  return results;
}

}  // namespace bkp
