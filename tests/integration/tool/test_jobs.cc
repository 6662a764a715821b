// `bkp run`: job files in a folder, run as child processes a few at once, against the real
// sshd of ssh_server.h (hosts 127.0.0.1 and 127.0.0.2).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"
#include "ssh_server.h"
#include "store.h"

using namespace bkptest;
using nlohmann::json;

namespace {

class Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    ssh = std::make_unique<SshServer>(tmp / "ssh");
    if (!ssh->skip_reason().empty()) GTEST_SKIP() << ssh->skip_reason();
    write_file(tmp / "web1/srv/www/index.html", "<h1>web1</h1>\n");
    write_file(tmp / "db1/var/lib/db/table", "rows\n");
    fs::create_directories(jobs);
  }
  void job(const std::string& name, const std::string& source, const std::string& rsh, const std::string& dest,
           bool incremental = true) {
    write_file(jobs / (name + ".conf"), "# " + name + "\nsources = " + source + "\ndestination = " + dest +
                                            "\nincremental = " + (incremental ? "true" : "false") + "\nrsh = " + rsh + "\n");
  }
  RunResult bkp_run(std::vector<std::string> args) {
    args.insert(args.begin(), {"run", "--jobs", jobs.string()});
    return run_bkp(args);
  }
  static const json& of(const json& summary, const std::string& name) {
    for (const json& j : summary["jobs"])
      if (j["job"] == name) return j;
    throw std::runtime_error("no job " + name + " in " + summary.dump());
  }

  TempDir tmp;
  std::unique_ptr<SshServer> ssh;
  const fs::path jobs = tmp / "jobs";
  const std::string www = "127.0.0.1:" + (tmp / "web1/srv/www").string();
  const std::string db = "127.0.0.2:" + (tmp / "db1/var/lib/db").string();
};

}  // namespace

TEST_F(Jobs, ThreeJobsRunInParallelAndAHostThatIsDownFailsOnlyItsOwn) {
  // Each job's ssh first says it started and waits until all three have: the jobs pass
  // only if they run at the same time (a job waiting alone gives up after a minute).
  const fs::path started = tmp / "started";
  fs::create_directories(started);
  write_file(tmp / "barrier-ssh",
             "#!/bin/sh\n"
             "dir=$1 me=$2; shift 2\n"
             "touch \"$dir/$me\"\n"
             "i=0\n"
             "while [ \"$(ls \"$dir\" | wc -l)\" -lt 3 ]; do\n"
             "  i=$((i + 1)); [ $i -gt 6000 ] && { echo \"barrier: the other jobs never started\" >&2; exit 255; }\n"
             "  sleep 0.01\n"  // spaces out the looks at $dir: nothing waits on its length
             "done\n"
             "exec \"$@\"\n",
             0755);
  auto barrier = [&](const std::string& name, const std::string& rsh) {
    return (tmp / "barrier-ssh").string() + " " + started.string() + " " + name + " " + rsh;
  };
  const ClosedPort down;
  job("web1", www, barrier("web1", ssh->rsh()), (tmp / "dest-web1").string());
  job("db1", db, barrier("db1", ssh->rsh()), (tmp / "dest-db1").string());
  job("mail1", "127.0.0.1:/var/mail", barrier("mail1", ssh->rsh("client", down.port())), (tmp / "dest-mail1").string());

  const auto r = bkp_run({"--parallel", "3", "--json"});
  EXPECT_EQ(r.status, 1) << r.err;
  // Job names in the log lines, one summary line per job.
  EXPECT_NE(r.err.find("bkp[web1]: info: full snapshot"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp[db1]: info: full snapshot"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp[mail1]: error: source 127.0.0.1:/var/mail: cannot list it on 127.0.0.1: ssh: connect to "
                       "host 127.0.0.1 port " + std::to_string(down.port()) + ": Connection refused"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("bkp: info: job web1: complete, snapshot "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp: info: job db1: complete, snapshot "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp: error: job mail1: refused (exit 1)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bkp: error: 3 job(s): 2 succeeded, 1 did not"), std::string::npos) << r.err;

  const json summary = json::parse(r.out);
  EXPECT_EQ(summary["jobs"].size(), 3u);
  EXPECT_EQ(summary["exit_code"], 1);
  EXPECT_EQ(summary["succeeded"], 2);
  EXPECT_EQ(of(summary, "web1")["status"], "complete");
  EXPECT_EQ(of(summary, "db1")["status"], "complete");
  EXPECT_EQ(of(summary, "mail1")["status"], "refused");
  EXPECT_EQ(of(summary, "mail1")["exit_code"], 1);
  const std::string snapshot = of(summary, "web1")["snapshot"];
  EXPECT_EQ(read_file(tmp / "dest-web1/0" / snapshot / "www/index.html"), "<h1>web1</h1>\n");
  EXPECT_EQ(of(summary, "db1")["bytes"], 5);
  EXPECT_GT(of(summary, "web1")["seconds"].get<double>(), 0);
  EXPECT_FALSE(fs::exists(tmp / "dest-mail1"));

  // Named jobs only; incremental = true in the job files.
  const auto again = bkp_run({"--json", "web1", "db1"});
  EXPECT_EQ(again.status, 0) << again.err;
  const json second = json::parse(again.out);
  EXPECT_EQ(second["jobs"].size(), 2u);
  EXPECT_EQ(of(second, "web1")["kind"], "incremental");
  EXPECT_EQ(of(second, "db1")["kind"], "incremental");
  EXPECT_EQ(of(second, "db1")["bytes"], 0);
  EXPECT_NE(again.err.find("bkp: info: 2 job(s): 2 succeeded, 0 did not"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(tmp / "dest-mail1"));
}

TEST_F(Jobs, ABadJobFileIsOnlyThatJobsRefusal) {
  job("good", www, ssh->rsh(), (tmp / "dest-good").string());
  write_file(jobs / "bad.conf", "sources = /srv\ndestination = /tmp/x\nno-such-option = 1\n");
  write_file(jobs / "incomplete.conf", "sources = /srv\n");
  write_file(jobs / "README", "not a job\n");
  write_file(jobs / ".hidden.conf", "not a job either\n");
  const auto r = bkp_run({"--json"});
  EXPECT_EQ(r.status, 1) << r.err;
  const json summary = json::parse(r.out);
  ASSERT_EQ(summary["jobs"].size(), 3u) << r.out;
  EXPECT_EQ(of(summary, "good")["status"], "complete");
  EXPECT_EQ(of(summary, "bad")["status"], "refused");
  EXPECT_EQ(of(summary, "bad")["exit_code"], 2);
  EXPECT_NE(of(summary, "bad")["message"].get<std::string>().find("no-such-option"), std::string::npos);
  EXPECT_NE(of(summary, "incomplete")["message"].get<std::string>().find("missing --destination"), std::string::npos);
}

TEST_F(Jobs, JobsOnOneDestinationTakeTurns) {
  // Every ssh of a job notes when it starts and ends.
  write_file(tmp / "logged-ssh", "#!/bin/sh\nlog=$1 me=$2; shift 2\necho \"$me start\" >>\"$log\"\n\"$@\"\n"
                                 "status=$?\necho \"$me end\" >>\"$log\"\nexit $status\n", 0755);
  auto logged = [&](const std::string& name) {
    return (tmp / "logged-ssh").string() + " " + (tmp / "ssh.log").string() + " " + name + " " + ssh->rsh();
  };
  job("a-full", www, logged("a"), (tmp / "dest").string(), false);
  job("b-increment", www, logged("b"), (tmp / "dest").string());
  const auto r = bkp_run({"--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string log = read_file(tmp / "ssh.log");
  EXPECT_EQ(log, "a start\na end\na start\na end\nb start\nb end\nb start\nb end\n");
  EXPECT_EQ(bkp::Destination::scan(tmp / "dest").complete_count(), 2u);
}

TEST_F(Jobs, StoppingTheRunStopsItsJobsAndStartsNoOther) {
  write_file(tmp / "slow-rsync", "#!/bin/sh\nset -f\nexec rsync --bwlimit=256 ${SSH_ORIGINAL_COMMAND#rsync }\n", 0755);
  ssh->add_key("slow", "command=\"" + (tmp / "slow-rsync").string() + "\",restrict");
  const fs::path big = tmp / "web1/big";
  for (int i = 0; i < 40; ++i) write_big_file(big / ("f" + std::to_string(100 + i)), 64 << 10, static_cast<char>('a' + i));
  job("a-slow", "127.0.0.1:" + big.string(), ssh->rsh("slow"), (tmp / "dest-slow").string());
  job("b-later", www, ssh->rsh(), (tmp / "dest-later").string());
  const int out_fd = ::open((tmp / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open((tmp / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = spawn({bkp_binary(), "run", "--jobs", jobs.string(), "--parallel", "1", "--json"}, {}, out_fd, err_fd);
  ::close(out_fd);
  ::close(err_fd);
  const bool copying = eventually([&] {
    std::error_code ec;
    if (fs::is_directory(tmp / "dest-slow/0", ec))
      for (const auto& s : layout(tmp / "dest-slow").snapshots)
        if (fs::exists(tmp / "dest-slow/0" / s / "big/f100", ec)) return true;
    return false;
  });
  ASSERT_TRUE(copying) << read_file(tmp / "err");
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait_for(pid), 1);
  const std::string err = read_file(tmp / "err");
  EXPECT_NE(err.find("Terminated: passing it on to 1 running job(s); no other job starts"), std::string::npos) << err;
  const json summary = json::parse(read_file(tmp / "out"));
  EXPECT_EQ(of(summary, "a-slow")["status"], "failed") << summary.dump();
  EXPECT_EQ(of(summary, "b-later")["status"], "not started");
  EXPECT_FALSE(fs::exists(tmp / "dest-later"));
  const auto store = bkp::Destination::scan(tmp / "dest-slow");
  EXPECT_TRUE(store.complete_snapshots().empty());
  EXPECT_EQ(store.current()->partials().size(), 1u);
}

TEST_F(Jobs, UsageErrorsAndEmptyFolders) {
  auto r = run_bkp({"run", "--jobs", (tmp / "nowhere").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("jobs folder " + (tmp / "nowhere").string() + ": does not exist"), std::string::npos) << r.err;
  r = bkp_run({});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("holds no job file (NAME.conf)"), std::string::npos) << r.err;
  job("web1", www, ssh->rsh(), (tmp / "dest").string());
  r = bkp_run({"web1", "nosuch"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("job nosuch: " + (jobs / "nosuch.conf").string() + " does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "dest"));  // nothing ran
  EXPECT_EQ(bkp_run({"--parallel", "0"}).status, 2);
  EXPECT_EQ(bkp_run({"../web1"}).status, 2);
  r = run_bkp({"run", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--jobs arg (=/etc/bkp/jobs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--parallel arg (=2)"), std::string::npos) << r.out;
  EXPECT_NE(run_bkp({"--help"}).out.find("  run "), std::string::npos);
}
