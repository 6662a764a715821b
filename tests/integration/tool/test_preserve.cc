// What a snapshot keeps of the source: metadata, links, special files, odd names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>

#include "harness.h"
#include "store.h"

using namespace bkptest;

namespace {

fs::path only_snapshot(const fs::path& dest) {
  const auto store = bkp::Destination::scan(dest);
  return store.newest_complete()->path;
}

}  // namespace

TEST(Preserve, MetadataLinksAndSpecialFiles) {
  TempDir tmp;
  const fs::path src = tmp / "data";
  write_file(src / "plain", "plain\n", 0640);
  write_file(src / "exec", "#!/bin/sh\n", 0755);
  write_file(src / "owned", "x", 0600);
  ASSERT_EQ(::lchown((src / "owned").c_str(), 4321, 8765), 0);
  fs::create_symlink("/etc/passwd", src / "abs-link");        // never followed
  fs::create_symlink("../nowhere", src / "dangling-link");
  fs::create_hard_link(src / "plain", src / "plain-hardlink");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((src / "chardev").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0);
  {
    std::ofstream sparse(src / "sparse");
    sparse.seekp(64 << 20);
    sparse << "end";
  }
  timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ::utimensat(AT_FDCWD, (src / "exec").c_str(), times, 0);
  ASSERT_EQ(::setxattr((src / "plain").c_str(), "user.note", "kept", 4, 0), 0);
  ASSERT_EQ(run({"setfacl", "-m", "u:4321:r", (src / "exec").string()}).status, 0);

  const auto r = run_bkp({"-s", src.string(), "-d", (tmp / "dest").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path copy = only_snapshot(tmp / "dest") / "data";
  EXPECT_EQ(manifest(src), manifest(copy));
  EXPECT_EQ(fs::read_symlink(copy / "abs-link"), "/etc/passwd");
  EXPECT_EQ(inode_of(copy / "plain"), inode_of(copy / "plain-hardlink"));
  struct stat st {};
  ::stat((copy / "sparse").c_str(), &st);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "sparse file was filled in";
  EXPECT_NE(run({"getfacl", "-c", (copy / "exec").string()}).out.find("user:4321:r--"), std::string::npos);

  // An increment keeps all of it too, and links what did not change.
  const auto again = run_bkp({"-i", "-s", src.string(), "-d", (tmp / "dest").string()});
  ASSERT_EQ(again.status, 0) << again.err;
  const fs::path next = only_snapshot(tmp / "dest") / "data";
  ASSERT_NE(next, copy);
  EXPECT_EQ(manifest(src, false), manifest(next, false));  // link counts grew, nothing else
  EXPECT_EQ(inode_of(copy / "plain"), inode_of(next / "plain-hardlink"));
}

TEST(Preserve, NamesWithAnyBytes) {
  TempDir tmp;
  const fs::path src = tmp / "odd names";
  for (const std::string name : {"with space", "new\nline", "-leading-dash", "--long-dash", "caf\xc3\xa9",
                                 "raw\xff\xfe", "tab\there", "star*?[x]", "quote'\"", "back\\slash"})
    write_file(src / name, name);
  const auto r = run_bkp({"-s", src.string(), "-d", (tmp / "dest").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(manifest(src), manifest(only_snapshot(tmp / "dest") / "odd names"));
  // The journal names the source in JSON, so a newline cannot break the INI file.
  const auto store = bkp::Destination::scan(tmp / "dest");
  EXPECT_EQ(store.newest_complete()->journal.at("sources"), "[\"" + src.string() + "\"]");
}

TEST(Preserve, SourcesWithLeadingDashAndSeveralSources) {
  TempDir tmp;
  write_file(tmp / "-dash-src/f", "a");
  write_file(tmp / "second/g", "b");
  const auto r = run_bkp({"-s", "./-dash-src", (tmp / "second").string(), "-d", "dest"}, {.env = {}, .uid = static_cast<uid_t>(-1), .cwd = tmp.path()});
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path snap = only_snapshot(tmp / "dest");
  EXPECT_EQ(read_file(snap / "-dash-src/f"), "a");
  EXPECT_EQ(read_file(snap / "second/g"), "b");
}
