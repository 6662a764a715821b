// nolinkfs: a pass-through FUSE filesystem over a folder that, like FAT or many network
// filesystems, cannot make hard links. Tests mount it as a real destination without hard
// links, since this kernel has no vfat:  nolinkfs BACKING_DIR MOUNTPOINT
#define FUSE_USE_VERSION 35
#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace {

std::string g_backing;

std::string real(const char* path) { return g_backing + path; }
int result(int rc) { return rc < 0 ? -errno : rc; }

int op_getattr(const char* path, struct stat* st, fuse_file_info*) { return result(::lstat(real(path).c_str(), st)); }
int op_access(const char* path, int mask) { return result(::access(real(path).c_str(), mask)); }
int op_mkdir(const char* path, mode_t mode) { return result(::mkdir(real(path).c_str(), mode)); }
int op_rmdir(const char* path) { return result(::rmdir(real(path).c_str())); }
int op_unlink(const char* path) { return result(::unlink(real(path).c_str())); }
int op_chmod(const char* path, mode_t mode, fuse_file_info*) { return result(::chmod(real(path).c_str(), mode)); }
int op_chown(const char* path, uid_t u, gid_t g, fuse_file_info*) { return result(::lchown(real(path).c_str(), u, g)); }
int op_truncate(const char* path, off_t size, fuse_file_info*) { return result(::truncate(real(path).c_str(), size)); }
int op_link(const char*, const char*) { return -EPERM; }  // what FAT answers

int op_utimens(const char* path, const timespec tv[2], fuse_file_info*) {
  return result(::utimensat(AT_FDCWD, real(path).c_str(), tv, AT_SYMLINK_NOFOLLOW));
}

int op_create(const char* path, mode_t mode, fuse_file_info* fi) {
  const int fd = ::open(real(path).c_str(), fi->flags, mode);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int op_open(const char* path, fuse_file_info* fi) {
  const int fd = ::open(real(path).c_str(), fi->flags);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  return 0;
}

int op_read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  return result(static_cast<int>(::pread(static_cast<int>(fi->fh), buf, size, off)));
}

int op_write(const char*, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  return result(static_cast<int>(::pwrite(static_cast<int>(fi->fh), buf, size, off)));
}

int op_release(const char*, fuse_file_info* fi) { return result(::close(static_cast<int>(fi->fh))); }

int op_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*, fuse_readdir_flags) {
  DIR* d = ::opendir(real(path).c_str());
  if (d == nullptr) return -errno;
  while (const dirent* e = ::readdir(d)) fill(buf, e->d_name, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  ::closedir(d);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: nolinkfs BACKING_DIR MOUNTPOINT\n");
    return 2;
  }
  char* resolved = ::realpath(argv[1], nullptr);
  if (resolved == nullptr) return 1;
  g_backing = resolved;
  fuse_operations ops{};
  ops.getattr = op_getattr;
  ops.access = op_access;
  ops.mkdir = op_mkdir;
  ops.rmdir = op_rmdir;
  ops.unlink = op_unlink;
  ops.chmod = op_chmod;
  ops.chown = op_chown;
  ops.truncate = op_truncate;
  ops.link = op_link;
  ops.utimens = op_utimens;
  ops.create = op_create;
  ops.open = op_open;
  ops.read = op_read;
  ops.write = op_write;
  ops.release = op_release;
  ops.readdir = op_readdir;
  char* fuse_argv[] = {argv[0], argv[2], const_cast<char*>("-o"), const_cast<char*>("default_permissions"), nullptr};
  return fuse_main(4, fuse_argv, &ops, nullptr);  // daemonizes once mounted
}
