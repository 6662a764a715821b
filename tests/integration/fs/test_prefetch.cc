// Prefetch of small files through a real mount: reading one file of a directory pushes its
// small siblings into the kernel's page cache of the mount, exactly (no byte past EOF, the
// sizes unchanged), within the bounds of -o prefetch=SIZE; -o noprefetch reads nothing ahead.
// Residency is measured with mincore(), in DEST's page cache and in the mount's.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

// Bytes of `file` in the page cache of the filesystem it is opened on (whole pages).
std::uint64_t resident_bytes(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st {};
  ::fstat(fd, &st);
  std::uint64_t resident = 0;
  if (st.st_size > 0) {
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const long page = ::sysconf(_SC_PAGESIZE);
      std::vector<unsigned char> pages((static_cast<std::size_t>(st.st_size) + page - 1) / page);
      if (::mincore(map, static_cast<std::size_t>(st.st_size), pages.data()) == 0)
        for (unsigned char p : pages) resident += (p & 1) ? page : 0;
      ::munmap(map, static_cast<std::size_t>(st.st_size));
    }
  }
  ::close(fd);
  return resident;
}

// Drops DEST's cached pages of every file under `dir` (clean pages go at once).
void evict(const fs::path& dir) {
  ::sync();
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// `n` files of `size` bytes (+ i, so no two end alike) in `dir`, with distinct content.
std::vector<std::string> make_files(const fs::path& dir, int n, std::size_t size) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const std::string name = "f" + std::to_string(1000 + i);
    std::string content(size + static_cast<std::size_t>(i), static_cast<char>('a' + i % 26));
    content.replace(0, name.size(), name);
    write_file(dir / name, content);
    names.push_back(name);
  }
  return names;
}

// What tar or ls -l do first: list the directory and stat every entry, so that the kernel
// has an inode (a node of bkpfs) for each, which a store needs.
void stat_all(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) (void)e.symlink_status();
}

std::size_t windows_done(const Mount& m) {
  const std::string log = m.stderr_text();
  std::size_t n = 0;
  for (std::size_t at = log.find("prefetch: window of"); at != std::string::npos; at = log.find("prefetch: window of", at + 1))
    ++n;
  return n;
}

TEST(Prefetch, OneReadStoresItsSmallSiblingsExactly) {
  struct Seen {
    int stored = 0;                 // files wholly in the mount's page cache
    std::uint64_t large = 0;        // bytes of the large file there
  };
  auto seen = without_cache_drops([] {
    Seen out;
    TempDir tmp;
    const fs::path dest = tmp / "dest";
    const std::string name = snapshot_name(0);
    const fs::path dir = add_snapshot(dest, "0", name) / "src/dir";
    const auto names = make_files(dir, 40, 5000);  // none a whole number of pages
    write_big_file(dir / "large", 2u << 20);       // above the small-file limit
    evict(dest);
    Mount m(dest, tmp / "mnt", {"-v"});
    if (!m.ready()) return out;
    const fs::path shown = m / "latest/src/dir";
    stat_all(shown);

    EXPECT_EQ(read_file(shown / names[0]), read_file(dir / names[0]));
    EXPECT_TRUE(eventually([&] { return windows_done(m) >= 1; }, 10s)) << m.stderr_text();
    for (const std::string& n : names) {
      const auto size = fs::file_size(dir / n);
      EXPECT_EQ(fs::file_size(shown / n), size) << n << ": a store past EOF would have grown it";
      if (resident_bytes(shown / n) >= size) ++out.stored;
    }
    out.large = resident_bytes(shown / "large");
    for (const std::string& n : names) EXPECT_EQ(read_file(shown / n), read_file(dir / n)) << n;
    return out;
  });
  if (!seen) GTEST_SKIP() << "another process dropped the page cache during every attempt";
  EXPECT_EQ(seen->stored, 40) << "the file read and every small sibling are in the mount's page cache";
  EXPECT_EQ(seen->large, 0u) << "large files are left to readahead";
}

TEST(Prefetch, OneReadInAHugeDirectoryReadsOnlyItsBound) {
  constexpr std::size_t kFile = 8192, kBound = 64 * 1024;
  struct Seen {
    std::uint64_t ahead_in_dest = 0, ahead_in_mount = 0;
    int files_in_mount = 0;
    std::string log;
  };
  auto seen = without_cache_drops([] {
    Seen out;
    TempDir tmp;
    const fs::path dest = tmp / "dest";
    const std::string name = snapshot_name(0);
    const fs::path dir = add_snapshot(dest, "0", name) / "src/huge";
    const auto names = make_files(dir, 1000, kFile);  // 8 MB
    evict(dest);
    Mount m(dest, tmp / "mnt", {"-v", "-o", "prefetch=64k"});
    if (!m.ready()) return out;
    const fs::path shown = m / "latest/src/huge";
    stat_all(shown);

    EXPECT_EQ(read_file(shown / names[500]), read_file(dir / names[500]));
    EXPECT_TRUE(eventually([&] { return windows_done(m) >= 1; }, 10s)) << m.stderr_text();
    for (const std::string& n : names) {
      if (n == names[500]) continue;
      out.ahead_in_dest += resident_bytes(dir / n);
      const std::uint64_t in_mount = resident_bytes(shown / n);
      out.ahead_in_mount += in_mount;
      out.files_in_mount += in_mount > 0;
    }
    out.log = m.stderr_text();
    return out;
  });
  if (!seen) GTEST_SKIP() << "another process dropped the page cache during every attempt";
  const std::uint64_t page_slack = 4096 * (kBound / kFile + 1);  // each file rounds up to whole pages
  EXPECT_GT(seen->ahead_in_mount, 0u) << "the window was stored";
  EXPECT_LE(seen->ahead_in_mount, kBound + page_slack);
  EXPECT_LE(seen->ahead_in_dest, kBound + page_slack) << "read ahead in DEST beyond the bound";
  EXPECT_LE(seen->files_in_mount, static_cast<int>(kBound / kFile));
  std::smatch window;
  ASSERT_TRUE(std::regex_search(seen->log, window, std::regex(R"(prefetch: window of (\d+) files, (\d+) bytes)")));
  EXPECT_LE(std::stoull(window[2]), kBound);
}

TEST(Prefetch, NoprefetchReadsNothingAhead) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path dir = add_snapshot(dest, "0", name) / "src/dir";
  const auto names = make_files(dir, 20, 3000);
  evict(dest);
  Mount m(dest, tmp / "mnt", {"-v", "-o", "noprefetch"});
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "latest/src/dir";
  stat_all(shown);
  EXPECT_EQ(read_file(shown / names[0]), read_file(dir / names[0]));
  // What a window would have stored by now: the read itself has been answered, and a
  // second file read after it is served too.
  EXPECT_EQ(read_file(shown / names[1]), read_file(dir / names[1]));
  std::uint64_t ahead = 0;
  for (std::size_t i = 2; i < names.size(); ++i) ahead += resident_bytes(shown / names[i]);
  EXPECT_EQ(ahead, 0u);
  EXPECT_EQ(m.stderr_text().find("prefetch:"), std::string::npos);
}

}  // namespace
}  // namespace bkpfstest
