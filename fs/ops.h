// The FUSE low-level operations table. Each operation is a thin handler in one of
// ops_entry.cc, ops_dir.cc, ops_file.cc and ops_xattr.cc: it finds the node in the
// Filesystem, makes one call on the underlying descriptor and replies. All are wrapped
// in the exception firewall (firewall.h). The session's userdata is a SessionData.
#pragma once

#include <fuse_lowlevel.h>

#include <cerrno>

#include "filesystem.h"

namespace bkpfs {

class Passthrough;
class Prefetcher;

// What the operations reach through the session's userdata: the FUSE-free Filesystem and
// the read accelerators set up at mount (passthrough.h, prefetch.h; nullptr when off),
// which speak to the session and so live beside the Filesystem, not in it.
struct SessionData {
  Filesystem& fs;
  Passthrough* passthrough = nullptr;
  Prefetcher* prefetcher = nullptr;
};

fuse_lowlevel_ops make_operations();

inline SessionData& session_data(void* userdata) { return *static_cast<SessionData*>(userdata); }
inline SessionData& session_data(fuse_req_t req) { return session_data(fuse_req_userdata(req)); }
inline Filesystem& fs_of(fuse_req_t req) { return session_data(req).fs; }

inline fuse_entry_param to_fuse(const Entry& e) {
  fuse_entry_param p{};
  p.ino = e.id;
  p.attr = e.attr;
  p.attr_timeout = e.attr_timeout;
  p.entry_timeout = e.entry_timeout;
  return p;
}

// Every operation that would change something: the mount is ro, so the kernel refuses
// most of them itself; answering EROFS here too keeps the answer right if it asks anyway.
// Assigned to any slot of the table (ops.mkdir = refuse_write), it takes that slot's type.
template <typename... Args>
void refuse_write(fuse_req_t req, Args...) {
  fuse_reply_err(req, EROFS);
}

void add_entry_operations(fuse_lowlevel_ops& ops);
void add_dir_operations(fuse_lowlevel_ops& ops);
void add_file_operations(fuse_lowlevel_ops& ops);
void add_xattr_operations(fuse_lowlevel_ops& ops);

}  // namespace bkpfs
