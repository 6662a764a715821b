// FUSE passthrough (-o passthrough) through a real mount: what is read, by read() or mmap,
// equals the backing file and no READ reaches bkpfs; backing files are given back when the
// last open file is closed; where the kernel refuses, bkpfs says so once and reads itself.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string bytes_of(const fs::path& file, off_t offset, std::size_t size) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "open failed: " + std::string(std::strerror(errno));
  std::string out(size, '\0');
  const ssize_t n = ::pread(fd, out.data(), size, offset);
  ::close(fd);
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

// Mounted with -o passthrough; skips the test where this kernel has no FUSE passthrough.
struct PassthroughMount {
  Mount mount;
  PassthroughMount(const fs::path& dest, const fs::path& mnt, const std::string& more = "")
      : mount(dest, mnt, {"-v", "-o", "passthrough,noprefetch" + more}) {}
  // Waits until INIT has been answered (a first request is served) and says whether
  // passthrough was negotiated.
  bool negotiated() {
    struct stat st {};
    ::stat(mount.path().c_str(), &st);
    const std::string log = mount.stderr_text();
    return log.find("passthrough: on") != std::string::npos;
  }
  // Unmounts cleanly and returns everything bkpfs logged, its counters last.
  std::string unmount_and_log() {
    run({"fusermount3", "-u", mount.path().string()});
    EXPECT_EQ(mount.wait_exit(10s), 0);
    return mount.stderr_text();
  }
};

#define SKIP_WITHOUT_PASSTHROUGH(m)                                                                   \
  do {                                                                                                \
    ASSERT_TRUE((m).mount.ready());                                                                   \
    if (!(m).negotiated()) GTEST_SKIP() << "no FUSE passthrough here: " << (m).mount.stderr_text(); \
  } while (0)

TEST(Passthrough, ReadsEqualTheBackingFileAndNeverReachBkpfs) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_big_file(src / "big", (24ULL << 20) + 12345);  // not a multiple of any page or folio
  write_file(src / "small", "a small file\n");
  write_file(src / "empty", "");
  PassthroughMount m(dest, tmp / "mnt", ",debug");
  SKIP_WITHOUT_PASSTHROUGH(m);
  const fs::path shown = m.mount / "latest/src";

  EXPECT_EQ(digest(shown / "big"), digest(src / "big"));
  EXPECT_EQ(read_file(shown / "small"), "a small file\n");
  EXPECT_EQ(read_file(shown / "empty"), "");
  for (off_t at : {off_t(0), off_t(4095), off_t(1 << 20) + 7, off_t(24 << 20)})
    EXPECT_EQ(bytes_of(shown / "big", at, 70000), bytes_of(src / "big", at, 70000)) << "at " << at;
  EXPECT_EQ(bytes_of(shown / "big", off_t(25) << 20, 10), "");  // past EOF

  const std::string log = m.unmount_and_log();
  EXPECT_GE(count(log, "opcode: OPEN"), 7u) << "every open is answered";
  EXPECT_EQ(count(log, "opcode: READ "), 0u) << "passthrough reads never reach bkpfs";
}

TEST(Passthrough, MmapMapsTheBackingContent) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  const std::size_t size = (8u << 20) + 777;
  write_big_file(src / "big", size);
  PassthroughMount m(dest, tmp / "mnt", ",debug");
  SKIP_WITHOUT_PASSTHROUGH(m);

  const std::string expected = read_file(src / "big");
  const int fd = ::open((m.mount / "latest/src/big").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
  EXPECT_EQ(std::memcmp(map, expected.data(), size), 0);
  ::munmap(map, size);
  ::close(fd);
  EXPECT_EQ(count(m.unmount_and_log(), "opcode: READ "), 0u);
}

// Entries of versions/ and changes/ are files of a snapshot too: they pass through to the
// file of the snapshot they come from.
TEST(Passthrough, HistoryEntriesPassThroughToTheirSnapshotsFiles) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string first = snapshot_name(0), second = snapshot_name(60);
  add_snapshot(dest, "0", first);
  add_snapshot(dest, "0", second);  // src/file.txt differs: two versions
  PassthroughMount m(dest, tmp / "mnt", ",debug");
  SKIP_WITHOUT_PASSTHROUGH(m);
  EXPECT_EQ(read_file(m.mount / "versions/src/file.txt" / (first + ".txt")), "snapshot " + first + "\n");
  EXPECT_EQ(read_file(m.mount / "versions/src/file.txt" / (second + ".txt")), "snapshot " + second + "\n");
  EXPECT_EQ(read_file(m.mount / "changes" / second / "src/file.txt"), "snapshot " + second + "\n");
  const std::string log = m.unmount_and_log();
  EXPECT_EQ(count(log, "opcode: READ "), 0u) << "passthrough reads never reach bkpfs";
  std::smatch counters;
  ASSERT_TRUE(std::regex_search(log, counters, std::regex(R"(passthrough: (\d+) opens, (\d+) releases)"))) << log;
  EXPECT_EQ(counters[1], "3");
  EXPECT_EQ(counters[2], "3");
}

TEST(Passthrough, ConcurrentOpensAndHardLinksShareAndReleaseBackingFiles) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_big_file(src / "a", 3u << 20);
  fs::create_hard_link(src / "a", src / "b");  // one inode, two nodes of bkpfs
  PassthroughMount m(dest, tmp / "mnt");
  SKIP_WITHOUT_PASSTHROUGH(m);
  const fs::path shown = m.mount / "by-date" / name / "src";

  // The kernel refuses a second, different backing file for an inode in use: two opens of
  // one file at the same time must get the same one.
  const int one = ::open((shown / "a").c_str(), O_RDONLY | O_CLOEXEC);
  const int two = ::open((shown / "a").c_str(), O_RDONLY | O_CLOEXEC);
  const int link = ::open((shown / "b").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(one, 0);
  ASSERT_GE(two, 0) << std::strerror(errno);
  ASSERT_GE(link, 0) << std::strerror(errno);
  char x[3] = {}, y[3] = {}, z[3] = {};
  EXPECT_EQ(::pread(one, x, 3, 1000), 3);
  EXPECT_EQ(::pread(two, y, 3, 1000), 3);
  EXPECT_EQ(::pread(link, z, 3, 1000), 3);
  EXPECT_EQ(std::string(x, 3), std::string(y, 3));
  EXPECT_EQ(std::string(x, 3), std::string(z, 3));
  ::close(one);
  ::close(two);
  ::close(link);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(digest(shown / (i % 2 ? "a" : "b")), digest(src / "a"));

  // Every backing id bkpfs registered was closed again, and the kernel accepted each close.
  const std::string log = m.unmount_and_log();
  std::smatch counters;
  ASSERT_TRUE(std::regex_search(log, counters,
                                std::regex(R"(passthrough: (\d+) opens, (\d+) releases, (\d+) backing files opened, (\d+) closed)")))
      << log;
  EXPECT_EQ(counters[1], "23");
  EXPECT_EQ(counters[2], "23");
  EXPECT_EQ(counters[3], counters[4]);
  EXPECT_GE(std::stoi(counters[3]), 2);  // a and b are different nodes
}

// A private tmpfs: its free space tells exactly when the last reference to a deleted
// file's inode went away.
struct Tmpfs {
  fs::path path;
  explicit Tmpfs(fs::path p) : path(std::move(p)) {
    fs::create_directories(path);
    mounted = ::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=256m") == 0;
  }
  ~Tmpfs() {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH);
  }
  std::uint64_t free_bytes() const {
    struct statvfs st {};
    ::statvfs(path.c_str(), &st);
    return static_cast<std::uint64_t>(st.f_bfree) * st.f_frsize;
  }
  bool mounted = false;
};

TEST(Passthrough, BackingFileIsLetGoWhenTheLastOpenFileCloses) {
  TempDir tmp;
  Tmpfs ram(tmp / "ram");
  ASSERT_TRUE(ram.mounted) << std::strerror(errno);
  const fs::path dest = ram.path / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  constexpr std::uint64_t kSize = 32ULL << 20;
  write_big_file(src / "big", kSize);
  PassthroughMount m(dest, tmp / "mnt");
  SKIP_WITHOUT_PASSTHROUGH(m);

  const int fd = ::open((m.mount / "latest/src/big").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, kSize - 1), 1);
  const std::uint64_t before = ram.free_bytes();
  fs::remove(src / "big");  // its blocks are freed once nothing holds the inode
  EXPECT_LT(ram.free_bytes(), before + kSize / 2) << "the open file through bkpfs holds it";
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return ram.free_bytes() >= before + kSize - (1u << 20); }, 10s))
      << "bkpfs did not give its backing file back after the last close";
}

// An overlayfs is a stacked filesystem: the kernel refuses its files as backing files.
struct Overlay {
  fs::path lower, upper, work, merged;
  bool mounted = false;
  explicit Overlay(const fs::path& base)
      : lower(base / "lower"), upper(base / "upper"), work(base / "work"), merged(base / "merged") {
    for (const fs::path& p : {lower, upper, work, merged}) fs::create_directories(p);
    const std::string options = "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
    mounted = ::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) == 0;
  }
  ~Overlay() {
    if (mounted) ::umount2(merged.c_str(), MNT_DETACH);
  }
};

TEST(Passthrough, FallsBackWithOneWarningWhereTheKernelRefusesBackingFiles) {
  TempDir tmp;
  Overlay overlay(tmp / "ov");
  if (!overlay.mounted) GTEST_SKIP() << "cannot mount an overlayfs here: " << std::strerror(errno);
  const fs::path dest = overlay.merged / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  for (int i = 0; i < 5; ++i) write_file(src / ("f" + std::to_string(i)), "file " + std::to_string(i) + "\n");
  write_big_file(src / "big", 5u << 20);
  PassthroughMount m(dest, tmp / "mnt");
  SKIP_WITHOUT_PASSTHROUGH(m);

  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(read_file(m.mount / "latest/src" / ("f" + std::to_string(i))), "file " + std::to_string(i) + "\n");
  EXPECT_EQ(digest(m.mount / "latest/src/big"), digest(src / "big"));
  const std::string log = m.unmount_and_log();
  EXPECT_EQ(count(log, "passthrough: the kernel refused a backing file"), 1u) << log;
  EXPECT_NE(log.find("stacked filesystem"), std::string::npos) << log;
}

}  // namespace
}  // namespace bkpfstest
