// The FUSE low-level operations table. Each operation is a thin handler in one of
// ops_entry.cc, ops_dir.cc, ops_file.cc and ops_xattr.cc: it finds the node in the
// Filesystem, makes one call on the underlying descriptor and replies. All are wrapped
// in the exception firewall (firewall.h). The session's userdata is the Filesystem.
#pragma once

#include <fuse_lowlevel.h>

#include "filesystem.h"

namespace bkpfs {

fuse_lowlevel_ops make_operations();

inline Filesystem& fs_of(fuse_req_t req) { return *static_cast<Filesystem*>(fuse_req_userdata(req)); }

void add_entry_operations(fuse_lowlevel_ops& ops);
void add_dir_operations(fuse_lowlevel_ops& ops);
void add_file_operations(fuse_lowlevel_ops& ops);
void add_xattr_operations(fuse_lowlevel_ops& ops);

}  // namespace bkpfs
