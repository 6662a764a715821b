// Extended attributes of snapshot content, read as stored; changes are refused.
//
// `ls -l` asks for security.selinux and system.posix_acl_access on every entry, and FUSE
// has no xattr cache, so each question is a round trip (measured on 100,000 entries, warm:
// 100,000 GETXATTR requests, 4-5 s against 0.3-0.6 s for the whole native `ls -l`). Two
// things take them away where that stays exact:
// - POSIX ACLs are cached by the kernel itself (FUSE_CAP_POSIX_ACL, see ops.cc): it asks
//   once per inode and keeps the answer, "no ACL" included.
// - In a snapshot whose journal records that none of its sources had an extended attribute
//   or ACL (`xattrs = false`), every other name is answered ENOTSUP without a syscall: `ls`
//   then stops asking for security.selinux for the rest of its run, as on a filesystem
//   mounted without xattrs. ACL names are answered ENODATA there, which the kernel caches.
//   Snapshots without that record (older ones) are asked as stored, one round trip each.
//   That holds wherever the snapshot's content shows: by-date/, by-series/, and entries of
//   versions/ and changes/ (Filesystem::snapshot_of); the virtual tree, and the root with
//   user.bkpfs.checks, is in no snapshot and answered by Filesystem::getxattr.
#include <cerrno>
#include <string_view>

#include "firewall.h"
#include "ops.h"

namespace bkpfs {

namespace {

// FUSE's two-step protocol: size 0 asks for the length, otherwise the value must fit.
void reply_sized(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0)
    fuse_reply_xattr(req, value.size());
  else if (value.size() > size)
    fuse_reply_err(req, ERANGE);
  else
    fuse_reply_buf(req, value.data(), value.size());
}

bool is_acl_name(std::string_view name) {
  return name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Filesystem& fs = fs_of(req);
  if (fs.recorded_without_xattrs(ino)) {
    fuse_reply_err(req, is_acl_name(name) ? ENODATA : ENOTSUP);
    return;
  }
  reply_sized(req, fs.getxattr(ino, name), size);
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Filesystem& fs = fs_of(req);
  reply_sized(req, fs.recorded_without_xattrs(ino) ? std::string() : fs.listxattr(ino), size);
}

}  // namespace

void add_xattr_operations(fuse_lowlevel_ops& ops) {
  ops.getxattr = Guard<getxattr>::call;
  ops.listxattr = Guard<listxattr>::call;
  ops.setxattr = refuse_write;
  ops.removexattr = refuse_write;
}

}  // namespace bkpfs
