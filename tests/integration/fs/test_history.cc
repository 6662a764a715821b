// The history views (issue 11): versions/<source>/<path>/ holds one entry per distinct
// version of a file, deleted ones included; changes/<snapshot>/ only what is new in it.
// Both are live and read-only, and every listing's d_ino is the entry's st_ino.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

using namespace std::chrono_literals;

void set_mtime(const fs::path& p, time_t t) {
  const timespec times[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// Hard-links every regular file of `from` into `to` (as an incremental run leaves it).
void link_tree(const fs::path& from, const fs::path& to) {
  ASSERT_EQ(run({"cp", "-al", from.string(), to.string()}).status, 0);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Series A (a1 full, a2 increment) renamed to a2, then the current series (b1 full, b2
// increment), all with one source "home", written as bkp writes them.
struct History {
  TempDir tmp;
  fs::path dest = tmp / "dest";
  std::string a1 = snapshot_name(0), a2 = snapshot_name(100), b1 = snapshot_name(200), b2 = snapshot_name(300);

  fs::path snap(const std::string& series, const std::string& name) { return dest / series / name; }

  History() {
    const fs::path s1 = snap(a2, a1) / "home";
    fs::create_directories(s1 / "sub");
    write_file(s1 / "doc1.txt", "one\n");
    write_file(s1 / "keep.txt", "kept\n");
    write_file(s1 / "gone.txt", "deleted later\n");
    write_file(s1 / "sub/deep.md", "deep\n");
    fs::create_symlink("doc1.txt", s1 / "link");
    for (const char* f : {"doc1.txt", "keep.txt", "gone.txt", "sub/deep.md"}) set_mtime(s1 / f, 1600000000);
    link_tree(snap(a2, a1), snap(a2, a2));  // a2: gone.txt deleted, new.txt added
    fs::remove(snap(a2, a2) / "home/gone.txt");
    write_file(snap(a2, a2) / "home/new.txt", "new\n");
    set_mtime(snap(a2, a2) / "home/new.txt", 1600000500);
    write_journal(dest / a2, section(a1) + section(a2));
    // b1: a full run copies everything anew (same metadata: the same versions).
    fs::create_directories(dest / "0");
    EXPECT_EQ(run({"cp", "-a", snap(a2, a2).string(), snap("0", b1).string()}).status, 0);
    link_tree(snap("0", b1), snap("0", b2));  // b2: doc1 edited, new.txt's mode changed
    const fs::path s4 = snap("0", b2) / "home";
    fs::remove(s4 / "doc1.txt");
    write_file(s4 / "doc1.txt", "two, longer\n");
    set_mtime(s4 / "doc1.txt", 1600001000);
    fs::remove(s4 / "new.txt");
    EXPECT_EQ(run({"cp", "-a", (snap("0", b1) / "home/new.txt").string(), (s4 / "new.txt").string()}).status, 0);
    ::chmod((s4 / "new.txt").c_str(), 0600);
    write_journal(dest / "0", section(b1) + section(b2));
  }
};

TEST(History, VersionsListEveryDistinctVersionDeletedOnesIncluded) {
  History h;
  Mount m(h.dest, h.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "versions"), std::vector<std::string>{"home"});
  EXPECT_EQ(sorted(list_dir(m / "versions/home")),
            (std::vector<std::string>{"doc1.txt", "gone.txt", "keep.txt", "link", "new.txt", "sub"}));
  EXPECT_EQ(list_dir(m / "versions/home/doc1.txt"), (std::vector<std::string>{h.a1 + ".txt", h.b2 + ".txt"}));
  EXPECT_EQ(list_dir(m / "versions/home/gone.txt"), std::vector<std::string>{h.a1 + ".txt"});
  EXPECT_EQ(list_dir(m / "versions/home/keep.txt"), std::vector<std::string>{h.a1 + ".txt"});
  // A change of mode alone is a new version.
  EXPECT_EQ(list_dir(m / "versions/home/new.txt"), (std::vector<std::string>{h.a2 + ".txt", h.b2 + ".txt"}));
  EXPECT_EQ(list_dir(m / "versions/home/link"), std::vector<std::string>{h.a1});  // no extension
  EXPECT_EQ(list_dir(m / "versions/home/sub"), std::vector<std::string>{"deep.md"});
  EXPECT_EQ(list_dir(m / "versions/home/sub/deep.md"), std::vector<std::string>{h.a1 + ".md"});

  // Each entry is that version: content, mode, owner, times, size, inode; links stay links.
  const fs::path old_version = m / "versions/home/doc1.txt" / (h.a1 + ".txt");
  EXPECT_EQ(read_file(old_version), "one\n");
  EXPECT_EQ(read_file(m / "versions/home/doc1.txt" / (h.b2 + ".txt")), "two, longer\n");
  EXPECT_EQ(read_file(m / "versions/home/gone.txt" / (h.a1 + ".txt")), "deleted later\n");
  struct stat shown {}, real {};
  ASSERT_EQ(::lstat(old_version.c_str(), &shown), 0);
  ASSERT_EQ(::lstat((h.snap(h.a2, h.a1) / "home/doc1.txt").c_str(), &real), 0);
  EXPECT_EQ(shown.st_ino, real.st_ino);
  EXPECT_EQ(shown.st_mode, real.st_mode);
  EXPECT_EQ(shown.st_size, real.st_size);
  EXPECT_EQ(shown.st_mtim.tv_sec, real.st_mtim.tv_sec);
  EXPECT_EQ(fs::read_symlink(m / "versions/home/link" / h.a1), "doc1.txt");
  struct stat mode_version {};
  ASSERT_EQ(::lstat((m / "versions/home/new.txt" / (h.b2 + ".txt")).c_str(), &mode_version), 0);
  EXPECT_EQ(mode_version.st_mode & 07777, 0600u);
  // Plain cp restores it.
  ASSERT_EQ(run({"cp", "-a", old_version.string(), (h.tmp / "restored.txt").string()}).status, 0);
  EXPECT_EQ(read_file(h.tmp / "restored.txt"), "one\n");
}

TEST(History, ChangesShowOnlyWhatIsNewInEachSnapshot) {
  History h;
  Mount m(h.dest, h.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(list_dir(m / "changes"), (std::vector<std::string>{h.a1, h.a2, h.b1, h.b2}));
  // The first snapshot: everything.
  EXPECT_EQ(sorted(list_dir(m / "changes" / h.a1 / "home")),
            (std::vector<std::string>{"doc1.txt", "gone.txt", "keep.txt", "link", "sub"}));
  EXPECT_EQ(list_dir(m / "changes" / h.a1 / "home/sub"), std::vector<std::string>{"deep.md"});
  EXPECT_EQ(list_dir(m / "changes" / h.a2 / "home"), std::vector<std::string>{"new.txt"});
  // A full run that copied everything unchanged changed nothing.
  EXPECT_TRUE(list_dir(m / "changes" / h.b1).empty());
  EXPECT_EQ(sorted(list_dir(m / "changes" / h.b2 / "home")), (std::vector<std::string>{"doc1.txt", "new.txt"}));
  EXPECT_EQ(read_file(m / "changes" / h.b2 / "home/doc1.txt"), "two, longer\n");
  EXPECT_FALSE(fs::exists(m / "changes" / h.b2 / "home/keep.txt"));
  RunResult ls = run({"ls", "-R", (m / "changes" / h.b2).string()});
  EXPECT_EQ(ls.status, 0) << ls.err;
  EXPECT_NE(ls.out.find("doc1.txt"), std::string::npos);
  EXPECT_EQ(ls.out.find("keep.txt"), std::string::npos) << ls.out;
}

TEST(History, NewAndPrunedSnapshotsShowWithoutRemount) {
  History h;
  Mount m(h.dest, h.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  ASSERT_EQ(list_dir(m / "versions/home/doc1.txt").size(), 2u);
  const std::string c = snapshot_name(400);
  link_tree(h.snap("0", h.b2), h.snap("0", c));
  fs::remove(h.snap("0", c) / "home/doc1.txt");
  write_file(h.snap("0", c) / "home/doc1.txt", "three\n");
  write_journal(h.dest / "0", section(h.b1) + section(h.b2) + section(c));
  EXPECT_TRUE(eventually([&] { return list_dir(m / "versions/home/doc1.txt").size() == 3; }, 5s));
  EXPECT_EQ(list_dir(m / "changes" / c / "home"), std::vector<std::string>{"doc1.txt"});
  // A prune of b2: its version of doc1.txt goes; new.txt's mode change now shows in c.
  write_journal(h.dest / "0", section(h.b1) + section(c));
  fs::remove_all(h.snap("0", h.b2));
  EXPECT_TRUE(eventually([&] {
    return list_dir(m / "versions/home/doc1.txt") == std::vector<std::string>{h.a1 + ".txt", c + ".txt"};
  }, 5s));
  EXPECT_FALSE(fs::exists(m / "changes" / h.b2));
  EXPECT_EQ(sorted(list_dir(m / "changes" / c / "home")), (std::vector<std::string>{"doc1.txt", "new.txt"}));
}

TEST(History, ViewsAreReadOnly) {
  History h;
  Mount m(h.dest, h.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  for (const fs::path& p : {m / "versions/home/doc1.txt" / (h.a1 + ".txt"), m / "changes" / h.b2 / "home/doc1.txt"}) {
    errno = 0;
    EXPECT_LT(::open(p.c_str(), O_WRONLY), 0) << p;
    EXPECT_EQ(errno, EROFS) << p;
    EXPECT_NE(::unlink(p.c_str()), 0);
    EXPECT_EQ(errno, EROFS) << p;
  }
  EXPECT_NE(::mkdir((m / "versions/home/x").c_str(), 0755), 0);
  EXPECT_EQ(errno, EROFS);
  EXPECT_NE(::rmdir((m / "changes" / h.b2 / "home").c_str()), 0);
  EXPECT_EQ(errno, EROFS);
}

// Entries of `dir` with the d_ino the kernel gives, read a few at a time: after the first
// chunk (READDIRPLUS, which carries looked-up attributes) the kernel asks with plain
// READDIR, whose inode numbers come from the listing alone.
std::vector<std::pair<std::string, ino_t>> small_reads(const fs::path& dir) {
  struct linux_dirent64 {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
  };
  std::vector<std::pair<std::string, ino_t>> out;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  alignas(8) char buf[96];
  long n;
  while ((n = ::syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const linux_dirent64*>(buf + off);
      const std::string name = d->d_name;
      if (name != "." && name != "..") out.emplace_back(name, d->d_ino);
      off += d->d_reclen;
    }
  ::close(fd);
  return out;
}

// The check of libfuse's test_examples.py: every entry's d_ino equals its st_ino.
TEST(History, ReaddirInodeEqualsStatInodeEverywhere) {
  History h;
  std::string journal = read_file(h.dest / "0/cfg.ini");
  for (int i = 0; i < 80; ++i) {
    const std::string name = snapshot_name(1000 + i);
    fs::create_directories(h.snap("0", name) / "home");
    journal += section(name);
  }
  write_journal(h.dest / "0", journal);
  for (int i = 0; i < 150; ++i) write_file(h.snap("0", h.b2) / "home/sub" / ("f" + std::to_string(i)), "x");
  Mount m(h.dest, h.tmp / "mnt");
  ASSERT_TRUE(m.ready());
  int checked = 0;
  std::function<void(const fs::path&)> walk = [&](const fs::path& dir) {
    for (const auto& [name, ino] : small_reads(dir)) {
      struct stat st {};
      ASSERT_EQ(::lstat((dir / name).c_str(), &st), 0) << dir / name;
      EXPECT_EQ(st.st_ino, ino) << dir / name;
      ++checked;
      if (S_ISDIR(st.st_mode)) walk(dir / name);
    }
  };
  walk(m.path());
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace bkpfstest
