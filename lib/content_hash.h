// Content checksums of files: XXH3-128 (libxxhash), the hash `xxhsum -H2` prints. Not
// cryptographic: it finds bit rot and torn writes, not tampering, and is fast enough that
// reading, not hashing, is what a checksum costs (several GB/s on one core).
//
// Files are read with large sequential reads (1 MiB, the kernel told to read ahead for a
// sequential pass), several files at once on a few threads: on a disk, more requests in
// flight read faster; in memory, two cores hash twice as fast.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

struct Checksum {
  uint64_t high = 0, low = 0;  // XXH128_hash_t

  bool operator==(const Checksum&) const = default;
  // 32 lower-case hex digits, as xxhsum prints them (big-endian canonical form).
  std::string hex() const;
  static std::optional<Checksum> from_hex(std::string_view hex);
};

// Hashes what the open file `fd` holds from its current offset to its end; returns the
// bytes read in `bytes`. nullopt (errno set) when a read fails.
std::optional<Checksum> hash_open_file(int fd, uint64_t* bytes = nullptr);

// One file to hash: `path` below the open directory `root_fd` (opened beneath it, never
// through a symlink).
struct HashTask {
  int root_fd;
  std::string path;
};

struct HashResult {
  std::optional<Checksum> sum;  // nullopt: it could not be opened or read (see error)
  int error = 0;                // errno of the failure
  uint64_t bytes = 0;           // bytes read
};

struct HashOptions {
  // Four at a time: a disk reads faster with several requests in flight (cold, on a virtio
  // disk, 1.4-1.6x the speed of two); from the page cache the two cores are busy either way.
  unsigned threads = 4;
  // Tell the kernel to drop each file's pages once it is hashed: a verify of a large
  // destination should not push everything else out of the page cache.
  bool drop_cache = false;
};

// Hashes every task, in the order given (callers sort them for locality) on
// `options.threads` threads; `done(i, result)` is called after each, from any of them.
std::vector<HashResult> hash_files(const std::vector<HashTask>& tasks, const HashOptions& options = {},
                                   const std::function<void(size_t, const HashResult&)>& done = {});

// Hash of an in-memory buffer (for tests and records of small data).
Checksum hash_bytes(std::string_view data);

}  // namespace bkp
