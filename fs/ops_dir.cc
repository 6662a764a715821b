// Directories. A directory handle holds the whole listing, taken at opendir; snapshot
// listings are immutable so the kernel may cache them (cache_readdir), virtual ones are
// rebuilt at each opendir from the current timeline.
//
// Where the kernel offers it (FUSE_NO_OPENDIR_SUPPORT), opendir answers ENOSYS: the kernel
// then stops sending OPENDIR and RELEASEDIR and caches every listing, which saves two round
// trips per directory of a walk. Snapshot listings never change; the virtual ones are
// invalidated by Filesystem::timeline_changed whenever the timeline changes. READDIR then
// comes without a handle and lists the directory itself.
#include <fcntl.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "firewall.h"
#include "ops.h"

namespace bkpfs {

namespace {

Listing* handle(fuse_file_info* fi) { return reinterpret_cast<Listing*>(fi->fh); }

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (fs_of(req).skip_opendir()) {
    fuse_reply_err(req, ENOSYS);
    return;
  }
  auto listing = std::make_unique<Listing>(fs_of(req).list(ino));
  fi->cache_readdir = listing->immutable;
  fi->keep_cache = listing->immutable;
  fi->fh = reinterpret_cast<uint64_t>(listing.get());
  if (fuse_reply_open(req, fi) == 0) listing.release();  // else the request was interrupted
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete handle(fi);
  fuse_reply_err(req, 0);
}

// Offsets: 0 is ".", 1 "..", 2 + i the i-th entry; each entry carries the next offset.
void read_entries(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info* fi, bool plus) {
  Filesystem& fs = fs_of(req);
  std::shared_ptr<const Listing> kept;  // no handle: the kernel skips OPENDIR
  if (fi->fh == 0) kept = fs.listing_for_readdir(ino, offset);
  const Listing& listing = kept ? *kept : *handle(fi);
  std::vector<char> buf(size);
  size_t used = 0;
  for (size_t i = static_cast<size_t>(std::max<off_t>(offset, 0)); i < listing.entries.size() + 2; ++i) {
    const off_t next = static_cast<off_t>(i + 1);
    char* at = buf.data() + used;
    const size_t room = size - used;
    size_t need = 0;
    if (i < 2) {
      const char* name = i == 0 ? "." : "..";
      struct stat st {};
      st.st_mode = S_IFDIR;
      st.st_ino = i == 0 ? listing.self_ino : 1;  // never 0: glibc would hide the entry
      if (plus) {
        fuse_entry_param e{};  // ino 0: attributes not given, the kernel makes no dentry
        e.attr = st;
        need = fuse_add_direntry_plus(req, at, room, name, &e, next);
      } else {
        need = fuse_add_direntry(req, at, room, name, &st, next);
      }
    } else {
      const DirEntry& d = listing.entries[i - 2];
      struct stat st {};
      st.st_ino = d.ino;
      st.st_mode = static_cast<mode_t>(d.type) << 12;
      if (plus) {
        fuse_entry_param e{};
        e.attr = st;
        // One entry that cannot be looked up (removed meanwhile) is listed without
        // attributes rather than failing the whole listing.
        run_guarded("readdirplus", [&] {
          const Entry found = fs.lookup(ino, d.name);
          if (found.id != 0) e = to_fuse(found);
        });
        need = fuse_add_direntry_plus(req, at, room, d.name.c_str(), &e, next);
        if (need > room && e.ino != 0) fs.forget(e.ino, 1);  // not sent: not looked up
      } else {
        need = fuse_add_direntry(req, at, room, d.name.c_str(), &st, next);
      }
    }
    if (need > room) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  read_entries(req, ino, size, off, fi, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  read_entries(req, ino, size, off, fi, true);
}

}  // namespace

void add_dir_operations(fuse_lowlevel_ops& ops) {
  ops.opendir = Guard<opendir>::call;
  ops.releasedir = Guard<releasedir>::call;
  ops.readdir = Guard<readdir>::call;
  ops.readdirplus = Guard<readdirplus>::call;
}

}  // namespace bkpfs
