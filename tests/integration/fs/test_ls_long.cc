// `ls -l` through `latest/` asks bkpfs nothing once warm: the kernel keeps symlink targets
// and POSIX ACLs, and a snapshot whose journal records `xattrs = false` answers ENOTSUP for
// other names, after which ls stops asking. Snapshots without that record (older ones) keep
// every xattr and ACL exact. FUSE requests are counted in bkpfs's -o debug trace.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

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

// DEST with one snapshot of `files` files; `xattrs_key` is added to its journal section.
fs::path make_dest(const fs::path& dest, const std::string& xattrs_key, int files) {
  const std::string name = snapshot_name(0);
  const fs::path src = dest / "0" / name / "src";
  fs::create_directories(src / "dir");
  for (int i = 0; i < files; ++i) write_file(src / "dir" / ("f" + std::to_string(i)), "x");
  std::string journal = section(name);
  if (!xattrs_key.empty()) journal.insert(journal.size() - 1, xattrs_key + "\n");
  write_journal(dest / "0", journal);
  return src;
}

TEST(LsLong, WarmListingOfARecordedSnapshotAsksNothing) {
  struct Seen {
    std::string first, second, trace;
  };
  auto seen = without_cache_drops([] {
    Seen out;
    TempDir tmp;
    make_dest(tmp / "dest", "xattrs = false", 300);
    Mount m(tmp / "dest", tmp / "mnt", {"-o", "debug"});
    if (!m.ready()) return out;
    const std::string dir = (m / "latest/src/dir").string();
    out.first = run({"ls", "-l", dir}).out;
    const std::size_t before = m.stderr_text().size();
    out.second = run({"ls", "-l", dir}).out;
    out.trace = m.stderr_text().substr(before);
    return out;
  });
  if (!seen) GTEST_SKIP() << "another process dropped the caches during every attempt";
  EXPECT_EQ(count(seen->first, "\n"), 301u);  // "total" and 300 entries
  EXPECT_EQ(seen->second, seen->first);
  // One security.selinux question per run of ls: ENOTSUP, and ls asks no more.
  EXPECT_LE(count(seen->trace, "opcode: GETXATTR"), 1u) << seen->trace.substr(0, 2000);
  EXPECT_EQ(count(seen->trace, "opcode: READLINK"), 0u) << "latest is followed from the kernel's cache";
  EXPECT_LT(count(seen->trace, "opcode: "), 10u) << seen->trace.substr(0, 2000);
}

TEST(LsLong, RecordedSnapshotAnswersNotSupportedAndNoAcl) {
  TempDir tmp;
  make_dest(tmp / "dest", "xattrs = false", 1);
  Mount m(tmp / "dest", tmp / "mnt");
  ASSERT_TRUE(m.ready());
  const std::string file = (m / "latest/src/dir/f0").string();
  char value[64];
  EXPECT_EQ(::lgetxattr(file.c_str(), "security.selinux", value, sizeof value), -1);
  EXPECT_EQ(errno, ENOTSUP);
  EXPECT_EQ(::lgetxattr(file.c_str(), "user.anything", value, sizeof value), -1);
  EXPECT_EQ(errno, ENOTSUP);
  EXPECT_EQ(::getxattr(file.c_str(), "system.posix_acl_access", value, sizeof value), -1);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(::llistxattr(file.c_str(), value, sizeof value), 0);
  // The same file as an entry of versions/ and changes/: still that snapshot's.
  const std::string name = snapshot_name(0);
  for (const fs::path& entry : {m / "versions/src/dir/f0" / name, m / "changes" / name / "src/dir/f0"}) {
    EXPECT_EQ(::lgetxattr(entry.c_str(), "security.selinux", value, sizeof value), -1) << entry;
    EXPECT_EQ(errno, ENOTSUP) << entry;
    EXPECT_EQ(::llistxattr(entry.c_str(), value, sizeof value), 0) << entry;
  }
  // The root is in no snapshot: its checks attribute, which scripts wait on, is answered.
  const std::uint64_t checks = m.checks();
  EXPECT_TRUE(m.wait_for_check()) << "user.bkpfs.checks of the root stopped counting";
  EXPECT_GE(m.checks(), checks + 2);
  // Tools that copy xattrs and ACLs list them first: a restore is clean.
  RunResult cp = run({"cp", "-a", (m / "latest/src").string(), (tmp / "out").string()});
  EXPECT_EQ(cp.status, 0) << cp.err;
  EXPECT_EQ(cp.err, "");
  RunResult rsync = run({"rsync", "-aHAX", (m / "latest/src/").string(), (tmp / "out2/").string()});
  EXPECT_EQ(rsync.status, 0) << rsync.err;
  EXPECT_EQ(read_file(tmp / "out2/dir/f0"), "x");
}

TEST(LsLong, UnrecordedSnapshotShowsXattrsAndAclsAsStored) {
  for (const std::string key : {"", "xattrs = true"}) {
    TempDir tmp;
    const fs::path src = make_dest(tmp / "dest", key, 2);
    ASSERT_EQ(::setxattr((src / "dir/f0").c_str(), "user.note", "kept", 4, 0), 0);
    RunResult acl = run({"setfacl", "-m", "u:65534:r--", (src / "dir/f1").string()});
    ASSERT_EQ(acl.status, 0) << acl.err;
    Mount m(tmp / "dest", tmp / "mnt");
    ASSERT_TRUE(m.ready());
    const fs::path shown = m / "latest/src/dir";
    char value[64] = {};
    EXPECT_EQ(::lgetxattr((shown / "f0").c_str(), "user.note", value, sizeof value), 4) << key;
    EXPECT_EQ(std::string(value, 4), "kept");
    const fs::path version = m / "versions/src/dir/f0" / snapshot_name(0);
    EXPECT_EQ(::lgetxattr(version.c_str(), "user.note", value, sizeof value), 4) << key;
    EXPECT_EQ(::lgetxattr((shown / "f0").c_str(), "security.selinux", value, sizeof value), -1);
    EXPECT_EQ(errno, ENODATA) << "as on the backing filesystem";
    RunResult ls = run({"ls", "-l", shown.string()});
    ASSERT_EQ(ls.status, 0) << ls.err;
    EXPECT_NE(ls.out.find("-rw-r--r--+ "), std::string::npos) << "ls shows f1's ACL: " << ls.out;
    RunResult native = run({"ls", "-l", (src / "dir").string()});
    EXPECT_EQ(ls.out, native.out) << key;
  }
}

TEST(LsLong, LatestFollowsANewSnapshotDespiteTheSymlinkCache) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  add_snapshot(dest, "0", snapshot_name(0));
  Mount m(dest, tmp / "mnt");
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(read_file(m / "latest/src/file.txt"), "snapshot " + snapshot_name(0) + "\n");
  EXPECT_EQ(fs::read_symlink(m / "latest"), "by-date/" + snapshot_name(0));
  add_snapshot(dest, "0", snapshot_name(60));
  EXPECT_TRUE(eventually([&] { return fs::read_symlink(m / "latest") == "by-date/" + snapshot_name(60); }, 5s));
  EXPECT_EQ(read_file(m / "latest/src/file.txt"), "snapshot " + snapshot_name(60) + "\n");
}

}  // namespace
}  // namespace bkpfstest
