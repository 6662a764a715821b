// Faithful content: `cp -a` out of the mount reproduces the snapshot (content, modes,
// owners, times, symlinks verbatim, hard links as links, special files, xattrs), and a
// big file reads back byte for byte.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

// Gives every entry an old time with nanoseconds (children first, so directory times
// stay): a copy made in the same second as the source would hide unpreserved times.
void age_tree(const fs::path& root) {
  std::vector<fs::path> all{root};
  for (const auto& e : fs::recursive_directory_iterator(root)) all.push_back(e.path());
  const timespec old[2] = {{1600000000, 123456789}, {1600000000, 987654321}};
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    ASSERT_EQ(::utimensat(AT_FDCWD, it->c_str(), old, AT_SYMLINK_NOFOLLOW), 0) << *it;
}

TEST(Restore, CpArchiveReproducesTheSnapshot) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  fs::create_directories(src / "deep/er/still");
  fs::create_directories(src / "empty");
  write_file(src / "deep/er/still/file", "deep\n", 0600);
  write_file(src / "exec.sh", "#!/bin/sh\n", 0755);
  write_file(src / "setuid", "s\n", 04755);
  write_file(src / "name with spaces & 'quotes'", "odd\n");
  write_file(src / "linked", "same inode\n", 0640);
  fs::create_hard_link(src / "linked", src / "deep/hardlink");
  fs::create_symlink("linked", src / "rel-link");
  fs::create_symlink("/etc/shadow", src / "abs-link");
  fs::create_symlink("../../../../../../etc/passwd", src / "escape-link");
  fs::create_symlink("nowhere", src / "dangling");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0620), 0);
  ASSERT_EQ(::mknod((src / "chardev").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  ASSERT_EQ(::lchown((src / "deep/er").c_str(), 4321, 8765), 0);
  ::chmod((src / "deep/er").c_str(), 0750);
  ASSERT_EQ(::setxattr((src / "exec.sh").c_str(), "user.note", "kept", 4, 0), 0);
  age_tree(src);

  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "by-date" / name / "src";
  EXPECT_EQ(fs::read_symlink(shown / "escape-link"), "../../../../../../etc/passwd");
  EXPECT_EQ(fs::read_symlink(shown / "abs-link"), "/etc/shadow");
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(shown / "fifo")));
  EXPECT_TRUE(fs::is_character_file(fs::symlink_status(shown / "chardev")));
  char value[16] = {};
  EXPECT_EQ(::getxattr((shown / "exec.sh").c_str(), "user.note", value, sizeof(value)), 4);
  EXPECT_STREQ(value, "kept");

  const fs::path out = tmp / "out";
  fs::create_directories(out);
  RunResult cp = run({"cp", "-a", shown.string() + "/.", out.string() + "/"});
  ASSERT_EQ(cp.status, 0) << cp.err;
  EXPECT_EQ(manifest(out), manifest(src));
  EXPECT_EQ(fs::equivalent(out / "linked", out / "deep/hardlink"), true);  // restored as a link
  value[0] = 0;
  EXPECT_EQ(::getxattr((out / "exec.sh").c_str(), "user.note", value, sizeof(value)), 4);

  // rsync -H sees the same inode numbers and restores the link too.
  const fs::path out2 = tmp / "out2";
  RunResult rs = run({"rsync", "-aH", shown.string() + "/", out2.string() + "/"});
  ASSERT_EQ(rs.status, 0) << rs.err;
  // rsync -a leaves xattrs behind (no -X); the cp -a check above covers them.
  EXPECT_EQ(manifest(out2, true, /*with_xattrs=*/false), manifest(src, true, /*with_xattrs=*/false));
}

TEST(Restore, HardLinksShowOneInodeNumber) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_file(src / "a", "x");
  fs::create_hard_link(src / "a", src / "b");
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  struct stat a {}, b {};
  ASSERT_EQ(::stat((m / "by-date" / name / "src/a").c_str(), &a), 0);
  ASSERT_EQ(::stat((m / "by-date" / name / "src/b").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  // The same snapshot reached by series shows the same inode numbers.
  struct stat c {};
  ASSERT_EQ(::stat((m / "by-series" / name / name / "src/a").c_str(), &c), 0);
  EXPECT_EQ(c.st_ino, a.st_ino);
}

TEST(Restore, BigFileReadsBackExactly) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path big = add_snapshot(dest, "0", name) / "src/big";
  write_big_file(big, 512ULL << 20);
  const std::uint64_t expected = digest(big);
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(digest(m / "by-date" / name / "src/big"), expected);
  EXPECT_EQ(fs::file_size(m / "latest/src/big"), 512ULL << 20);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("read_MiB_per_s", static_cast<int>(512 / seconds));
  // A second, warm read comes from the page cache kept across opens.
  EXPECT_EQ(digest(m / "latest/src/big"), expected);
}

// Issue 8, item 9: the holes of a sparse file are seen through the mount (SEEK_HOLE and
// SEEK_DATA), so a plain cp restores it sparse instead of writing its zeros out.
TEST(Restore, SparseFileRestoresSparse) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path sparse = add_snapshot(dest, "0", name) / "src/sparse.img";
  constexpr off_t kSize = 256 << 20, kSecond = 128 << 20, kData = 64 << 10;
  {
    const int fd = ::open(sparse.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    const std::string data(kData, 'd');
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 0), kData);
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), kSecond), kData);
    ASSERT_EQ(::ftruncate(fd, kSize), 0);
    ::close(fd);
  }
  const off_t hole = [&] {
    const int fd = ::open(sparse.c_str(), O_RDONLY);
    const off_t at = ::lseek(fd, 0, SEEK_HOLE);
    ::close(fd);
    return at;
  }();
  if (hole >= kSize) GTEST_SKIP() << "the filesystem under /var/tmp keeps no holes";
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "by-date" / name / "src/sparse.img";

  const int fd = ::open(shown.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::lseek(fd, 0, SEEK_HOLE), hole);
  EXPECT_EQ(::lseek(fd, kData, SEEK_DATA), kSecond);
  EXPECT_EQ(::lseek(fd, kSecond + kData, SEEK_DATA), -1);
  EXPECT_EQ(errno, ENXIO);  // no data after the last extent
  ::close(fd);

  auto allocated = [](const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<off_t>(st.st_blocks) * 512 : -1;
  };
  const std::uint64_t expected = digest(sparse);
  const fs::path by_cp = tmp / "cp.img";
  ASSERT_EQ(run({"cp", shown.string(), by_cp.string()}).status, 0);  // --sparse=auto: holes as found
  EXPECT_EQ(digest(by_cp), expected);
  EXPECT_LT(allocated(by_cp), 8 * kData) << "cp wrote the holes out";

  const fs::path untar = tmp / "untar";
  fs::create_directories(untar);
  RunResult tar = run({"sh", "-c", "tar --sparse -C \"$1\" -cf - sparse.img | tar -C \"$2\" -xf -", "sh",
                       shown.parent_path().string(), untar.string()});
  ASSERT_EQ(tar.status, 0) << tar.err;
  EXPECT_EQ(digest(untar / "sparse.img"), expected);
  EXPECT_LT(allocated(untar / "sparse.img"), 8 * kData);

  const fs::path by_rsync = tmp / "rsync.img";
  RunResult rs = run({"rsync", "-S", shown.string(), by_rsync.string()});
  ASSERT_EQ(rs.status, 0) << rs.err;
  EXPECT_EQ(digest(by_rsync), expected);
  EXPECT_LT(allocated(by_rsync), 8 * kData);
}

}  // namespace
}  // namespace bkpfstest
