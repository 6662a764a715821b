// Names and attributes: lookup, forget, getattr, readlink, statfs, and the namespace
// changes a read-only filesystem refuses.
#include <cerrno>

#include "firewall.h"
#include "ops.h"

namespace bkpfs {

namespace {

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem& fs = fs_of(req);
  if (auto entry = fs.lookup(parent, name)) {
    fuse_reply_entry(req, &*entry);
    return;
  }
  // A missing name inside a snapshot stays missing: let the kernel cache that. In the
  // virtual tree it may appear with the next snapshot, so it is not cached.
  auto node = fs.nodes().get(parent);
  if (node && !is_virtual_dir(node->kind)) {
    fuse_entry_param negative{};
    negative.entry_timeout = fs.tuning().content_timeout;
    fuse_reply_entry(req, &negative);
  } else {
    fuse_reply_err(req, ENOENT);
  }
}

void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) { fs_of(req).forget(ino, nlookup); }

void forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) fs_of(req).forget(forgets[i].ino, forgets[i].nlookup);
}

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Filesystem& fs = fs_of(req);
  const struct stat st = fs.attr(ino);
  fuse_reply_attr(req, &st, fs.attr_timeout(ino));
}

void readlink(fuse_req_t req, fuse_ino_t ino) {
  const std::string target = fs_of(req).readlink(ino);
  fuse_reply_readlink(req, target.c_str());
}

void statfs(fuse_req_t req, fuse_ino_t) {
  const struct statvfs st = fs_of(req).statfs();
  fuse_reply_statfs(req, &st);
}

// The mount is ro, so the kernel refuses these itself; answering EROFS here as well keeps
// bkpfs read-only even if it were ever mounted otherwise.
void setattr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { fuse_reply_err(req, EROFS); }
void mknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { fuse_reply_err(req, EROFS); }
void mkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { fuse_reply_err(req, EROFS); }
void unlink(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void rmdir(fuse_req_t req, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void symlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }
void rename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) {
  fuse_reply_err(req, EROFS);
}
void link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EROFS); }

}  // namespace

void add_entry_operations(fuse_lowlevel_ops& ops) {
  ops.lookup = Guard<lookup>::call;
  ops.forget = GuardNoReply<forget>::call;
  ops.forget_multi = GuardNoReply<forget_multi>::call;
  ops.getattr = Guard<getattr>::call;
  ops.readlink = Guard<readlink>::call;
  ops.statfs = Guard<statfs>::call;
  ops.setattr = setattr;
  ops.mknod = mknod;
  ops.mkdir = mkdir;
  ops.unlink = unlink;
  ops.rmdir = rmdir;
  ops.symlink = symlink;
  ops.rename = rename;
  ops.link = link;
}

}  // namespace bkpfs
