// Restores are exact in every read mode of bkpfs: the default (no OPEN round trips, prefetch
// into the page cache), without prefetch, and with FUSE passthrough. `cp -a` out of the
// mount reproduces hard links, a sparse file, xattrs and POSIX ACLs; mmap reads what read()
// reads; and the kernel checks ACLs as on the backing filesystem.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

#include <gtest/gtest.h>

#include "mount_fixture.h"

namespace bkpfstest {
namespace {

struct Mode {
  const char* name;
  const char* options;
};

void PrintTo(const Mode& mode, std::ostream* os) { *os << mode.name << " (-o " << mode.options << ")"; }

class Modes : public ::testing::TestWithParam<Mode> {
 protected:
  std::vector<std::string> mount_args() const { return {"-o", std::string("allow_other,") + GetParam().options}; }
};

void setfacl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"setfacl"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  ASSERT_EQ(r.status, 0) << r.err;
}

std::string getfacl(const fs::path& p) {
  RunResult r = run({"getfacl", "--absolute-names", "--omit-header", "--numeric", p.string()});
  return r.status == 0 ? r.out : "getfacl failed: " + r.err;
}

TEST_P(Modes, CpArchiveRestoresLinksSparseFilesXattrsAndAcls) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_file(src / "linked", "one inode, two names\n");
  fs::create_hard_link(src / "linked", src / "also-linked");
  {  // 64 MiB with 8 KiB of data in the middle: holes around it
    const int fd = ::open((src / "sparse").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 64 << 20), 0);
    const std::string data(8192, 'x');
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 32 << 20), 8192);
    ::close(fd);
  }
  write_file(src / "noted", "has xattrs\n");
  ASSERT_EQ(::setxattr((src / "noted").c_str(), "user.note", "kept", 4, 0), 0);
  ASSERT_EQ(::setxattr((src / "noted").c_str(), "user.empty", "", 0, 0), 0);
  write_file(src / "acl", "has an ACL\n", 0640);
  setfacl({"-m", "u:65534:r--,g:65534:rw-", (src / "acl").string()});
  fs::create_directories(src / "acl-dir");
  setfacl({"-d", "-m", "u:65534:rwx", (src / "acl-dir").string()});
  fs::create_symlink("linked", src / "link");

  Mount m(dest, tmp / "mnt", mount_args());
  ASSERT_TRUE(m.ready());
  const fs::path shown = m / "latest/src";
  EXPECT_EQ(getfacl(shown / "acl"), getfacl(src / "acl"));
  EXPECT_EQ(getfacl(shown / "acl-dir"), getfacl(src / "acl-dir"));

  const fs::path out = tmp / "out";
  fs::create_directories(out);
  RunResult cp = run({"cp", "-a", shown.string() + "/.", out.string() + "/"});
  ASSERT_EQ(cp.status, 0) << cp.err;
  EXPECT_EQ(manifest(out), manifest(src));  // content, metadata, links, xattrs incl. ACLs
  EXPECT_TRUE(fs::equivalent(out / "linked", out / "also-linked"));
  EXPECT_EQ(getfacl(out / "acl"), getfacl(src / "acl"));
  EXPECT_EQ(getfacl(out / "acl-dir"), getfacl(src / "acl-dir"));
  struct stat sparse {};
  ASSERT_EQ(::stat((out / "sparse").c_str(), &sparse), 0);
  EXPECT_EQ(sparse.st_size, 64 << 20);
  EXPECT_LT(sparse.st_blocks * 512, 1 << 20) << "the restored sparse file stays sparse";
}

TEST_P(Modes, MmapReadsWhatReadReads) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  const std::size_t size = (3u << 20) + 1234;
  write_big_file(src / "big", size);
  write_file(src / "small", "tiny\n");
  Mount m(dest, tmp / "mnt", mount_args());
  ASSERT_TRUE(m.ready());
  for (const char* file : {"big", "small"}) {
    const std::string expected = read_file(src / file);
    const int fd = ::open((m / "latest/src" / file).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    void* map = ::mmap(nullptr, expected.size(), PROT_READ, MAP_PRIVATE, fd, 0);
    ASSERT_NE(map, MAP_FAILED) << std::strerror(errno);
    EXPECT_EQ(std::memcmp(map, expected.data(), expected.size()), 0) << file;
    ::munmap(map, expected.size());
    ::close(fd);
    EXPECT_EQ(read_file(m / "latest/src" / file), expected) << file;
  }
}

TEST_P(Modes, TheKernelChecksAclsAsTheBackingFilesystemDoes) {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  const std::string name = snapshot_name(0);
  const fs::path src = add_snapshot(dest, "0", name) / "src";
  write_file(src / "granted", "readable by nobody through its ACL\n", 0600);
  setfacl({"-m", "u:65534:r--", (src / "granted").string()});
  write_file(src / "masked", "the mask takes it away\n", 0600);
  setfacl({"-m", "u:65534:r--,m::---", (src / "masked").string()});
  Mount m(dest, tmp / "mnt", mount_args());
  ASSERT_TRUE(m.ready());
  auto can_read = [](const fs::path& p) {
    return run_as(65534, 65534, [&] {
             const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
             return fd >= 0 ? 0 : 1;
           }) == 0;
  };
  for (const char* file : {"granted", "masked"})
    EXPECT_EQ(can_read(m / "latest/src" / file), can_read(src / file)) << file;
  EXPECT_TRUE(can_read(m / "latest/src/granted"));
}

INSTANTIATE_TEST_SUITE_P(EveryReadMode, Modes,
                         ::testing::Values(Mode{"Default", "quiet"}, Mode{"NoPrefetch", "noprefetch"},
                                           Mode{"Passthrough", "passthrough"},
                                           Mode{"PassthroughNoPrefetch", "passthrough,noprefetch"}),
                         [](const ::testing::TestParamInfo<Mode>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace bkpfstest
