// Names and attributes: lookup, forget, getattr, readlink, statfs, and the namespace
// changes a read-only filesystem refuses.
#include <cerrno>

#include "firewall.h"
#include "ops.h"

namespace bkpfs {

namespace {

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  // A missing name inside a snapshot stays missing: the kernel may cache that (ino 0 with
  // a timeout). In the virtual tree it may appear with the next snapshot: not cached.
  const Entry entry = fs_of(req).lookup(parent, name);
  if (entry.id == 0 && entry.entry_timeout == 0) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  const fuse_entry_param e = to_fuse(entry);
  fuse_reply_entry(req, &e);
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

}  // namespace

void add_entry_operations(fuse_lowlevel_ops& ops) {
  ops.lookup = Guard<lookup>::call;
  ops.forget = GuardNoReply<forget>::call;
  ops.forget_multi = GuardNoReply<forget_multi>::call;
  ops.getattr = Guard<getattr>::call;
  ops.readlink = Guard<readlink>::call;
  ops.statfs = Guard<statfs>::call;
  ops.setattr = refuse_write;
  ops.mknod = refuse_write;
  ops.mkdir = refuse_write;
  ops.unlink = refuse_write;
  ops.rmdir = refuse_write;
  ops.symlink = refuse_write;
  ops.rename = refuse_write;
  ops.link = refuse_write;
}

}  // namespace bkpfs
