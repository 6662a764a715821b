#include "passthrough.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "ops.h"

namespace bkpfs {

namespace {

// What protocol 7.40 added that Debian 12's <linux/fuse.h> (7.38) does not have yet.
constexpr std::uint64_t kFusePassthrough = 1ULL << 37;  // FUSE_PASSTHROUGH, an INIT flag
constexpr std::uint32_t kFopenPassthrough = 1U << 7;    // FOPEN_PASSTHROUGH
constexpr std::uint32_t kMaxStackDepth = 1;             // DEST on a plain (unstacked) filesystem
struct BackingMap {                                     // struct fuse_backing_map
  std::int32_t fd;
  std::uint32_t flags;
  std::uint64_t padding;
};
constexpr unsigned long kBackingOpen = _IOW(FUSE_DEV_IOC_MAGIC, 1, BackingMap);
constexpr unsigned long kBackingClose = _IOW(FUSE_DEV_IOC_MAGIC, 2, std::uint32_t);
// In 7.40, fuse_init_out.unused[0] is max_stack_depth and fuse_open_out.padding is
// backing_id: same sizes and places, so the 7.38 structs are patched in place.
static_assert(sizeof(fuse_init_out) == 64 && sizeof(fuse_open_out) == 16);

bool has_cap_sys_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32))) != 0;
}

std::string why_refused(int err) {
  std::string why = std::string("the kernel refused a backing file (") + std::strerror(err) + ")";
  if (err == ELOOP) why += ": DEST is on a stacked filesystem (overlayfs, FUSE)";
  if (err == EPERM) why += ": it needs CAP_SYS_ADMIN in the initial user namespace";
  return why;
}

// The custom I/O callbacks get the session's userdata.
Passthrough& self(void* userdata) { return *session_data(userdata).passthrough; }

}  // namespace

Passthrough::Passthrough() : capable_(has_cap_sys_admin()) {
  if (!capable_) spdlog::warn("passthrough needs CAP_SYS_ADMIN (run bkpfs as root); reading through bkpfs");
}

void Passthrough::attach(fuse_session* se) {
  if (!capable_) return;
  device_fd_ = fuse_session_fd(se);
  fuse_custom_io io{};
  io.read = io_read;
  io.writev = io_writev;
  io.splice_send = io_splice_send;  // replies to READ keep splicing from the backing file
  if (int err = fuse_session_custom_io(se, &io, device_fd_); err != 0) {
    spdlog::warn("passthrough: cannot take over the FUSE device ({}); reading through bkpfs", std::strerror(-err));
    capable_ = false;
  }
}

bool Passthrough::negotiate() {
  if (!capable_) return false;
  if (!offered_) {
    spdlog::warn("passthrough: this kernel does not offer it (Linux 6.9 or later with CONFIG_FUSE_PASSTHROUGH); "
                 "reading through bkpfs");
    return false;
  }
  enabled_ = true;
  spdlog::debug("passthrough: on");
  return true;
}

ssize_t Passthrough::io_read(int fd, void* buf, size_t len, void* userdata) {
  const ssize_t n = ::read(fd, buf, len);
  if (n > 0) self(userdata).saw_request(buf, static_cast<std::size_t>(n));
  return n;
}

ssize_t Passthrough::io_splice_send(int fdin, off_t* offin, int fdout, off_t* offout, size_t len, unsigned int flags,
                                    void*) {
  return ::splice(fdin, offin, fdout, offout, len, flags);
}

void Passthrough::saw_request(const void* buf, std::size_t len) {
  if (len < sizeof(fuse_in_header)) return;
  fuse_in_header in;
  std::memcpy(&in, buf, sizeof(in));
  if (in.opcode == FUSE_OPEN) {
    std::lock_guard lock(opens_mutex_);
    if (open_requests_.insert(in.unique).second) ++pending_opens_;
  } else if (in.opcode == FUSE_INIT && len >= sizeof(in) + sizeof(fuse_init_in)) {
    fuse_init_in init;
    std::memcpy(&init, static_cast<const char*>(buf) + sizeof(in), sizeof(init));
    std::uint64_t flags = init.flags;
    if (flags & FUSE_INIT_EXT) flags |= static_cast<std::uint64_t>(init.flags2) << 32;
    offered_ = (flags & kFusePassthrough) != 0;
    init_unique_ = in.unique;
  }
}

ssize_t Passthrough::io_writev(int fd, struct iovec* iov, int count, void* userdata) {
  self(userdata).patch_reply(iov, count);
  return ::writev(fd, iov, count);
}

// Rewrites, in place, the payload of the INIT reply and of OPEN replies to acquire()d fhs.
// libfuse sends both as {header, one struct}, from its own buffers.
void Passthrough::patch_reply(struct iovec* iov, int count) {
  if (count < 1 || iov[0].iov_len != sizeof(fuse_out_header)) return;
  fuse_out_header out;
  std::memcpy(&out, iov[0].iov_base, sizeof(out));
  if (out.unique == 0) return;  // a notification
  const bool has_payload = count == 2 && out.error == 0;
  if (out.unique == init_unique_) {
    init_unique_ = 0;
    if (!enabled_ || !has_payload || iov[1].iov_len != sizeof(fuse_init_out)) return;
    fuse_init_out init;
    std::memcpy(&init, iov[1].iov_base, sizeof(init));
    if (!(init.flags & FUSE_INIT_EXT)) return;
    init.flags2 |= static_cast<std::uint32_t>(kFusePassthrough >> 32);
    init.unused[0] = kMaxStackDepth;
    std::memcpy(iov[1].iov_base, &init, sizeof(init));
    return;
  }
  if (pending_opens_ == 0) return;
  {
    std::lock_guard lock(opens_mutex_);
    if (open_requests_.erase(out.unique) == 0) return;
    --pending_opens_;
  }
  if (!has_payload || iov[1].iov_len != sizeof(fuse_open_out)) return;
  fuse_open_out open;
  std::memcpy(&open, iov[1].iov_base, sizeof(open));
  if (!is_passthrough_fh(open.fh)) return;
  open.open_flags |= kFopenPassthrough;
  open.padding = static_cast<std::uint32_t>(open.fh & 0xffff'ffffULL);  // backing_id
  std::memcpy(iov[1].iov_base, &open, sizeof(open));
}

std::optional<std::uint64_t> Passthrough::acquire(NodeId id, const std::function<UniqueFd()>& open) {
  auto use = [&](Backing& b) {
    ++b.users;
    ++stats_.opens;
    return kFhTag | static_cast<std::uint32_t>(b.id);
  };
  {
    std::lock_guard lock(mutex_);
    if (auto it = backing_.find(id); it != backing_.end()) return use(it->second);
    if (!enabled_) return std::nullopt;
  }
  // Opened without the lock (a cold open waits for the disk). The kernel keeps its own
  // reference to the open file; bkpfs's descriptor is closed when `fd` goes.
  UniqueFd fd = open();
  BackingMap map{fd.get(), 0, 0};
  const int backing_id = ::ioctl(device_fd_, kBackingOpen, &map);
  if (backing_id < 0) {
    disable(why_refused(errno));
    std::lock_guard lock(mutex_);
    if (auto it = backing_.find(id); it != backing_.end()) return use(it->second);
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  ++stats_.backing_opened;
  auto [it, added] = backing_.emplace(id, Backing{backing_id, 0});
  if (!added) close_backing(static_cast<std::uint32_t>(backing_id));  // another open of `id` won
  return use(it->second);
}

void Passthrough::release(NodeId id) {
  std::lock_guard lock(mutex_);
  auto it = backing_.find(id);
  if (it == backing_.end()) return;
  ++stats_.releases;
  if (--it->second.users > 0) return;
  close_backing(static_cast<std::uint32_t>(it->second.id));
  backing_.erase(it);
}

void Passthrough::close_backing(std::uint32_t backing_id) {
  if (::ioctl(device_fd_, kBackingClose, &backing_id) == 0)
    ++stats_.backing_closed;
  else
    spdlog::debug("passthrough: closing backing id {}: {}", backing_id, std::strerror(errno));
}

void Passthrough::disable(const std::string& why) {
  enabled_ = false;
  std::lock_guard lock(mutex_);
  if (warned_) return;
  warned_ = true;
  spdlog::warn("passthrough: {}; reading through bkpfs from now on", why);
}

Passthrough::Stats Passthrough::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace bkpfs
