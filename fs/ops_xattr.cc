// Extended attributes of snapshot content, read as stored; changes are refused.
#include <cerrno>

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

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  reply_sized(req, fs_of(req).getxattr(ino, name), size);
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) { reply_sized(req, fs_of(req).listxattr(ino), size); }


}  // namespace

void add_xattr_operations(fuse_lowlevel_ops& ops) {
  ops.getxattr = Guard<getxattr>::call;
  ops.listxattr = Guard<listxattr>::call;
  ops.setxattr = refuse_write;
  ops.removexattr = refuse_write;
}

}  // namespace bkpfs
