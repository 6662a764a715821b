// FUSE passthrough (Linux 6.9+, `-o passthrough`): the kernel reads an open file straight
// from its backing file in DEST, with the backing filesystem's page cache, folios and
// readahead, so no READ reaches bkpfs and mmap maps the backing pages.
//
// libfuse 3.14 (Debian 12) has no API for it, so bkpfs speaks the few protocol words itself
// through fuse_session_custom_io(): it reads the kernel's requests and writes libfuse's
// replies on the FUSE device, and on the way
// - notes in the INIT request whether the kernel offers FUSE_PASSTHROUGH, and if bkpfs
//   wants it adds it to the INIT reply (FUSE_INIT_EXT, flags2, max_stack_depth = 1);
// - notes which requests are OPENs, and in their replies turns an fh that acquire() made
//   into FOPEN_PASSTHROUGH plus the backing id (never with FOPEN_KEEP_CACHE, which the
//   kernel refuses there).
// Backing ids come from ioctl(FUSE_DEV_IOC_BACKING_OPEN) on the FUSE device, need
// CAP_SYS_ADMIN, and are kept one per node while it has open files (the kernel refuses a
// second, different backing file for an inode in use), closed at the last RELEASE.
// Passthrough means answering every OPEN (the kernel's no-open shortcut is connection-wide).
// Where any of it is not available bkpfs logs one line and reads through the daemon.
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "fd.h"
#include "inode_table.h"

namespace bkpfs {

class Passthrough {
 public:
  struct Stats {
    std::uint64_t opens = 0;          // OPEN replies sent with FOPEN_PASSTHROUGH
    std::uint64_t releases = 0;       // their RELEASEs
    std::uint64_t backing_opened = 0;
    std::uint64_t backing_closed = 0;
  };

  // Checks CAP_SYS_ADMIN now: without it passthrough is off (one warning).
  Passthrough();
  Passthrough(const Passthrough&) = delete;
  Passthrough& operator=(const Passthrough&) = delete;

  // Puts bkpfs's reads and writes of the FUSE device of a mounted session in place; before
  // the session loop starts. Does nothing when passthrough is already off.
  void attach(fuse_session* se);
  // Called from the FUSE init handler (after the INIT request was seen): true when the
  // kernel offers passthrough and the reply will ask for it; else logs why not.
  bool negotiate();
  bool enabled() const { return enabled_.load(); }

  // For an OPEN of node `id`: the fh to reply with so that the open passes through (the
  // node's backing id, registered from `open()` on its first open), or nullopt when the
  // kernel refused a backing file (then passthrough stays off for nodes not yet open, with
  // one warning, and the caller serves the open itself).
  std::optional<std::uint64_t> acquire(NodeId id, const std::function<UniqueFd()>& open);
  // For a RELEASE with the fh acquire() gave, or when that OPEN reply could not be sent.
  void release(NodeId id);
  static bool is_passthrough_fh(std::uint64_t fh) { return (fh & kFhTag) == kFhTag; }

  Stats stats() const;

 private:
  static constexpr std::uint64_t kFhTag = 0xb0b0'0000'0000'0000ULL;
  struct Backing {
    std::int32_t id = 0;
    std::uint64_t users = 0;
  };

  static ssize_t io_read(int fd, void* buf, size_t len, void* userdata);
  static ssize_t io_writev(int fd, struct iovec* iov, int count, void* userdata);
  static ssize_t io_splice_send(int fdin, off_t* offin, int fdout, off_t* offout, size_t len, unsigned int flags,
                                void* userdata);
  void saw_request(const void* buf, std::size_t len);
  void patch_reply(struct iovec* iov, int count);
  void disable(const std::string& why);
  void close_backing(std::uint32_t backing_id);  // under mutex_

  bool capable_ = false;
  int device_fd_ = -1;
  std::atomic<bool> offered_{false};   // the kernel's INIT offered FUSE_PASSTHROUGH
  std::atomic<bool> enabled_{false};   // and the reply asks for it; cleared by disable()
  std::atomic<std::uint64_t> init_unique_{0};

  std::mutex opens_mutex_;
  std::unordered_set<std::uint64_t> open_requests_;  // uniques of OPENs not yet replied
  std::atomic<std::uint64_t> pending_opens_{0};       // its size, read without the lock

  mutable std::mutex mutex_;
  std::unordered_map<NodeId, Backing> backing_;
  Stats stats_;
  bool warned_ = false;
};

}  // namespace bkpfs
