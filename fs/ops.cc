#include "ops.h"

#include <spdlog/spdlog.h>

#include "passthrough.h"

namespace bkpfs {

namespace {

void init(void* userdata, fuse_conn_info* conn) {
  SessionData& session = session_data(userdata);
  Filesystem& fs = session.fs;
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  // Reads splice the page cache of the backup file straight into the FUSE device.
  want(FUSE_CAP_SPLICE_WRITE);
  want(FUSE_CAP_SPLICE_MOVE);
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_READDIRPLUS_AUTO);
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_ASYNC_READ);
  // `ls -l latest/dir` resolves `latest` for every entry: the kernel keeps link targets in
  // its page cache (the virtual links are invalidated when the timeline changes).
  want(FUSE_CAP_CACHE_SYMLINKS);
  // The kernel caches POSIX ACLs per inode (ls -l asks for system.posix_acl_access on every
  // entry) and enforces them in its permission checks, as on the backing filesystem.
  want(FUSE_CAP_POSIX_ACL);
  // More requests in flight lets readahead of big files and many small reads overlap.
  conn->max_background = 64;
  conn->congestion_threshold = 48;
  // Passthrough needs every OPEN answered: the kernel's no-open shortcut is connection-wide.
  const bool passing = session.passthrough && session.passthrough->negotiate();
  fs.set_skip_open(!passing && (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0);
  fs.set_skip_opendir((conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0);
  spdlog::debug("fuse: kernel {}.{}, no-open {}, passthrough {}", conn->proto_major, conn->proto_minor,
                fs.skip_open(), passing);
}

}  // namespace

fuse_lowlevel_ops make_operations() {
  fuse_lowlevel_ops ops{};
  ops.init = init;
  add_entry_operations(ops);
  add_dir_operations(ops);
  add_file_operations(ops);
  add_xattr_operations(ops);
  return ops;
}

}  // namespace bkpfs
