// Remote sources over a real ssh connection: the test starts its own sshd on loopback
// (ssh_server.h), whose addresses 127.0.0.1 and 127.0.0.2 play two hosts.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"
#include "ssh_server.h"
#include "store.h"

using namespace bkptest;

namespace {

int error_lines(const std::string& err) {
  int n = 0;
  for (size_t at = err.find("bkp: error: "); at != std::string::npos; at = err.find("bkp: error: ", at + 1)) ++n;
  return n;
}

class Remote : public ::testing::Test {
 protected:
  void SetUp() override {
    ssh = std::make_unique<SshServer>(tmp / "ssh");
    if (!ssh->skip_reason().empty()) GTEST_SKIP() << ssh->skip_reason();
    write_file(www / "index.html", "<h1>hello</h1>\n");
    write_file(www / "img/logo.svg", "<svg/>\n");
    write_file(www / "odd name\twith tab", "odd\n");
    write_file(www / "hard1", "linked\n");
    fs::create_hard_link(www / "hard1", www / "hard2");
    fs::create_symlink("index.html", www / "home.html");
    write_file(etc / "hosts", "127.0.0.1 localhost\n");
    write_file(notes / "todo.txt", "backups\n");
  }
  // bkp with `args`, --rsh for key `key` of this server (or the given command line).
  RunResult bkp(std::vector<std::string> args, const std::string& rsh = "") {
    args.push_back("--rsh");
    args.push_back(rsh.empty() ? ssh->rsh() : rsh);
    return run_bkp(args);
  }
  fs::path snap(size_t i) {
    const auto store = bkp::Destination::scan(dest);
    return store.complete_snapshots().at(i)->path;
  }

  TempDir tmp;
  std::unique_ptr<SshServer> ssh;
  // "Hosts" 127.0.0.1 and 127.0.0.2 are this machine: their trees are here too.
  const fs::path www = tmp / "web1/srv/www", etc = tmp / "db1/etc", notes = tmp / "notes";
  const std::string www_remote = "127.0.0.1:" + www.string(), etc_remote = "127.0.0.2:" + etc.string();
  const fs::path dest = tmp / "dest";
};

}  // namespace

TEST_F(Remote, FullAndIncrementalPullsFromTwoHostsAndALocalSource) {
  const auto full = bkp({"-s", www_remote, etc_remote, notes.string(), "-d", dest.string()});
  ASSERT_EQ(full.status, 0) << full.err;
  const fs::path first = snap(0);
  EXPECT_EQ(manifest(first / "www"), manifest(www));  // hard links, symlinks and odd names included
  EXPECT_EQ(manifest(first / "etc"), manifest(etc));
  EXPECT_EQ(manifest(first / "notes"), manifest(notes));
  // The journal records remote sources exactly as given.
  EXPECT_NE(journal(dest).find("sources = [\"" + www_remote + "\", \"" + etc_remote + "\", \"" + notes.string() + "\"]"),
            std::string::npos)
      << journal(dest);
  // One connection per host to check the sources, one per host to pull them.
  EXPECT_EQ(ssh->accepted_logins(), 4) << ssh->log();

  write_file(www / "index.html", "<h1>hello again</h1>\n");  // changed
  fs::remove(www / "img/logo.svg");                          // deleted
  write_file(www / "new.txt", "new\n");                       // added
  write_file(etc / "hosts", "127.0.0.1 localhost\n");         // same size, new mtime
  const auto inc = bkp({"-i", "-s", www_remote, etc_remote, notes.string(), "-d", dest.string()});
  ASSERT_EQ(inc.status, 0) << inc.err;
  const fs::path second = snap(1);
  // Link counts now include the links to the previous snapshot; the shared inodes are checked below.
  EXPECT_EQ(manifest(second / "www", false), manifest(www, false));
  EXPECT_EQ(manifest(second / "etc", false), manifest(etc, false));
  EXPECT_EQ(manifest(second / "notes", false), manifest(notes, false));
  EXPECT_EQ(inode_of(second / "www/odd name\twith tab"), inode_of(first / "www/odd name\twith tab"));
  EXPECT_EQ(inode_of(second / "www/hard1"), inode_of(first / "www/hard1"));
  EXPECT_EQ(inode_of(second / "www/hard2"), inode_of(first / "www/hard1"));
  EXPECT_EQ(inode_of(second / "notes/todo.txt"), inode_of(first / "notes/todo.txt"));  // the local source too
  EXPECT_NE(inode_of(second / "www/index.html"), inode_of(first / "www/index.html"));
  EXPECT_NE(inode_of(second / "etc/hosts"), inode_of(first / "etc/hosts"));
  EXPECT_FALSE(fs::exists(second / "www/img/logo.svg"));
  EXPECT_EQ(read_file(first / "www/index.html"), "<h1>hello</h1>\n");  // the previous snapshot is untouched
  EXPECT_NE(journal(dest).find("kind = incremental"), std::string::npos);
}

TEST_F(Remote, IncrementsCompareModificationTimesToTheNanosecond) {
  ASSERT_EQ(bkp({"-q", "-s", www_remote, "-d", dest.string()}).status, 0);
  const auto t = fs::last_write_time(www / "index.html");
  fs::last_write_time(www / "index.html", t + std::chrono::nanoseconds(1));  // same second, same size
  ASSERT_EQ(bkp({"-q", "-i", "-s", www_remote, "-d", dest.string()}).status, 0);
  EXPECT_NE(inode_of(snap(1) / "www/index.html"), inode_of(snap(0) / "www/index.html"));
  EXPECT_EQ(fs::last_write_time(snap(1) / "www/index.html"), t + std::chrono::nanoseconds(1));
  EXPECT_EQ(inode_of(snap(1) / "www/hard1"), inode_of(snap(0) / "www/hard1"));
}

TEST_F(Remote, MissingNotADirectoryAndEmptyAreRefusedOneLineEachWithOneConnection) {
  ASSERT_EQ(bkp({"-q", "-s", www_remote, "-d", dest.string()}).status, 0);
  const std::string before = destination_state(dest);
  const int logins = ssh->accepted_logins();
  fs::create_directories(tmp / "web1/empty");
  const std::string missing = "127.0.0.1:" + (tmp / "web1/nope").string();
  const std::string file = "127.0.0.1:" + (www / "index.html").string();
  const std::string empty = "127.0.0.1:" + (tmp / "web1/empty").string();
  const auto r = bkp({"-i", "-s", missing, file, empty, www_remote, "-d", dest.string()});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("bkp: error: source " + missing + ": does not exist\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp: error: source " + file + ": not a directory\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp: error: source " + empty + ": is empty (a missing mount?)"), std::string::npos) << r.err;
  EXPECT_EQ(error_lines(r.err), 3) << r.err;
  EXPECT_EQ(destination_state(dest), before);
  EXPECT_EQ(ssh->accepted_logins(), logins + 1) << "checking the sources took more than one connection";

  // The same rules as for local sources: --allow-empty accepts an empty directory.
  const auto allowed = bkp({"-q", "-i", "--allow-empty", "-s", empty, www_remote, "-d", dest.string()});
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_TRUE(fs::is_directory(snap(1) / "empty"));
}

TEST_F(Remote, TwoSourcesWithTheSameNameAreRefused) {
  fs::create_directories(tmp / "other/www");
  write_file(tmp / "other/www/x", "x\n");
  const auto r = bkp({"-s", www_remote, "127.0.0.2:" + (tmp / "other/www").string(), "-d", dest.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("another source has the same name 'www'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_EQ(ssh->accepted_logins(), 0);
  const auto daemon = bkp({"-s", "127.0.0.1::module", "-d", dest.string()});
  EXPECT_EQ(daemon.status, 2);
  EXPECT_NE(daemon.err.find("rsync daemon sources"), std::string::npos) << daemon.err;
}

TEST_F(Remote, AHostThatIsDownIsRefusedWithSshsMessageAndDestUntouched) {
  const ClosedPort down;
  const auto r = bkp({"-s", www_remote, "127.0.0.1:/etc", "-d", dest.string()}, ssh->rsh("client", down.port()));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("bkp: error: sources " + www_remote + ", 127.0.0.1:/etc: cannot list them on 127.0.0.1: ssh: "
                       "connect to host 127.0.0.1 port " + std::to_string(down.port()) + ": Connection refused\n"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(error_lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(dest));

  ASSERT_EQ(bkp({"-q", "-s", www_remote, "-d", dest.string()}).status, 0);
  const std::string before = destination_state(dest);
  const auto again = bkp({"-i", "-s", www_remote, "-d", dest.string()}, ssh->rsh("client", down.port()));
  EXPECT_EQ(again.status, 1);
  EXPECT_EQ(destination_state(dest), before);
}

TEST_F(Remote, ARefusedKeyIsRefusedWithSshsMessage) {
  ssh->unauthorized_key();
  const auto r = bkp({"-s", www_remote, "-d", dest.string()}, ssh->rsh("unauthorized"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("source " + www_remote + ": cannot list it on 127.0.0.1: root@127.0.0.1: Permission denied "
                       "(publickey)."),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(Remote, AKeyRestrictedByRrsyncIsEnough) {
  if (::access("/usr/bin/rrsync", X_OK) != 0) GTEST_SKIP() << "rrsync is not installed (Debian ships it with rsync)";
  ssh->add_key("rrsync", "command=\"/usr/bin/rrsync -ro /\",restrict");
  // The key runs nothing but rsync, read-only.
  const auto shell = run({"sh", "-c", ssh->rsh("rrsync") + " 127.0.0.1 touch " + (tmp / "written").string()});
  EXPECT_NE(shell.status, 0);
  EXPECT_FALSE(fs::exists(tmp / "written"));

  ASSERT_EQ(bkp({"-q", "-s", www_remote, etc_remote, "-d", dest.string()}, ssh->rsh("rrsync")).status, 0);
  write_file(www / "index.html", "<h1>changed</h1>\n");
  const auto inc = bkp({"-q", "-i", "--exclude", "*.svg", "-s", www_remote, etc_remote, "-d", dest.string()},
                       ssh->rsh("rrsync"));
  ASSERT_EQ(inc.status, 0) << inc.err;
  EXPECT_EQ(read_file(snap(1) / "www/index.html"), "<h1>changed</h1>\n");
  EXPECT_FALSE(fs::exists(snap(1) / "www/img/logo.svg"));
  EXPECT_EQ(inode_of(snap(1) / "etc/hosts"), inode_of(snap(0) / "etc/hosts"));
  const auto refused = bkp({"-s", "127.0.0.1:" + (tmp / "nope").string(), "-d", dest.string()}, ssh->rsh("rrsync"));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find(": does not exist"), std::string::npos) << refused.err;

  // Restricted to one folder, the key reads only below it, and sources are relative to it.
  ssh->add_key("rrsync-srv", "command=\"/usr/bin/rrsync -ro " + (tmp / "web1/srv").string() + "\",restrict");
  const fs::path other = tmp / "dest-srv";
  const auto below = bkp({"-q", "-s", "127.0.0.1:www", "-d", other.string()}, ssh->rsh("rrsync-srv"));
  ASSERT_EQ(below.status, 0) << below.err;
  const auto other_store = bkp::Destination::scan(other);
  EXPECT_EQ(manifest(other_store.complete_snapshots().at(0)->path / "www"), manifest(www));
  const auto outside = bkp({"-s", "127.0.0.1:" + etc.string(), "-d", other.string()}, ssh->rsh("rrsync-srv"));
  EXPECT_EQ(outside.status, 1);
  EXPECT_NE(outside.err.find("bkp: error: source 127.0.0.1:" + etc.string() + ": cannot list it on 127.0.0.1: "),
            std::string::npos)
      << outside.err;
  EXPECT_EQ(error_lines(outside.err), 1) << outside.err;
}

TEST_F(Remote, Ipv6AddressesInBrackets) {
  if (!ssh->has_ipv6()) GTEST_SKIP() << "no ::1 on this machine";
  const auto r = bkp({"-q", "-s", "[::1]:" + www.string(), "-d", dest.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(manifest(snap(0) / "www"), manifest(www));
}

TEST_F(Remote, DryRunChangesNothing) {
  const auto r = bkp({"-n", "-s", www_remote, "-d", dest.string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("dry run: would transfer"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(Remote, ADroppedConnectionLeavesAPartialSnapshotThatTheNextRunResumes) {
  // A key whose rsync sends at 256 KiB/s, so that the connection can be cut in the middle.
  write_file(tmp / "slow-rsync", "#!/bin/sh\nset -f\nexec rsync --bwlimit=256 ${SSH_ORIGINAL_COMMAND#rsync }\n", 0755);
  ssh->add_key("slow", "command=\"" + (tmp / "slow-rsync").string() + "\",restrict");
  const fs::path big = tmp / "web1/big";
  for (int i = 0; i < 40; ++i) write_big_file(big / ("f" + std::to_string(100 + i)), 64 << 10, static_cast<char>('a' + i % 26));
  const std::string source = "127.0.0.1:" + big.string();

  const int err_fd = ::open((tmp / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = spawn({bkp_binary(), "-s", source, "-d", dest.string(), "--rsh", ssh->rsh("slow")}, {}, err_fd, err_fd);
  ::close(err_fd);
  // Once the first file is complete in the snapshot, kill the ssh that carries it (bkp's
  // child is rsync, whose child is ssh).
  auto first_file_done = [&] {
    std::error_code ec;
    if (!fs::is_directory(dest / "0", ec)) return false;
    for (const auto& s : layout(dest).snapshots)
      if (fs::exists(dest / "0" / s / "big/f100", ec)) return true;
    return false;
  };
  ASSERT_TRUE(eventually(first_file_done));
  pid_t ssh_client = -1;
  for (pid_t rsync : child_processes(pid))
    for (pid_t child : child_processes(rsync))  // rsync's own receiver process is a child too
      if (read_file("/proc/" + std::to_string(child) + "/comm") == "ssh\n") ssh_client = child;
  ASSERT_GT(ssh_client, 0) << "no ssh below bkp " << pid;
  ASSERT_EQ(::kill(ssh_client, SIGKILL), 0);
  EXPECT_EQ(wait_for(pid), 1);
  const std::string err = read_file(tmp / "err");
  EXPECT_NE(err.find("pulling from 127.0.0.1"), std::string::npos) << err;
  EXPECT_NE(err.find("is left partial and the next run will reuse it"), std::string::npos) << err;

  auto store = bkp::Destination::scan(dest);
  ASSERT_TRUE(store.complete_snapshots().empty());
  ASSERT_EQ(store.current()->partials().size(), 1u);
  const fs::path partial = store.current()->partials()[0]->path / "big";
  std::map<std::string, ino_t> copied;
  for (const auto& e : fs::directory_iterator(partial))
    if (e.path().filename().string()[0] != '.') copied[e.path().filename().string()] = inode_of(e.path());
  ASSERT_FALSE(copied.empty());
  ASSERT_LT(copied.size(), 40u) << "the transfer was over before the connection was cut";

  const auto resumed = bkp({"--json", "-s", source, "-d", dest.string()});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 1u);
  EXPECT_TRUE(store.current()->partials().empty());
  EXPECT_EQ(manifest(snap(0) / "big"), manifest(big));
  for (const auto& [name, ino] : copied) EXPECT_EQ(inode_of(snap(0) / "big" / name), ino) << name << " was copied again";
  const auto summary = nlohmann::json::parse(resumed.out);
  EXPECT_EQ(summary["files"].get<uint64_t>(), 40 - copied.size());
}
