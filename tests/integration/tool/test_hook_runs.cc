// --pre-exec and --post-exec around runs of the built bkp: a failing pre-exec refuses with
// DEST untouched, post-exec is told the outcome of every run and never changes it. The
// fake rsync only to force exit codes (23, 11) and to tell whether rsync started.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "harness.h"
#include "metrics_reader.h"
#include "store.h"

using namespace bkptest;

namespace {

class HookRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "a.txt", "a\n");
    write_file(src / "sub/b.txt", "b\n");
  }
  RunResult backup(std::vector<std::string> extra, std::map<std::string, std::string> fake = {}) {
    std::vector<std::string> args = {"-q", "-s", src.string(), "-d", dest.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    fake["BKP_RSYNC"] = fake_rsync();
    fake["FAKE_RSYNC_STARTED"] = rsync_started.string();
    return run_bkp(args, {.env = fake, .uid = static_cast<uid_t>(-1), .cwd = {}});
  }
  // A post-exec that writes its BKP_* variables, one a line, into `seen`.
  std::string record_environment() const { return "env | grep '^BKP_' | grep -v '^BKP_RSYNC=' | sort > '" + seen.string() + "'"; }
  std::map<std::string, std::string> recorded() const {
    std::map<std::string, std::string> vars;
    if (!fs::exists(seen)) return vars;
    std::istringstream in(read_file(seen));
    for (std::string line; std::getline(in, line);) vars[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
    fs::remove(seen);
    return vars;
  }

  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
  fs::path seen = tmp / "post-exec-saw";
  fs::path rsync_started = tmp / "rsync-started";
};

}  // namespace

TEST_F(HookRuns, AFailingPreExecRefusesWithDestUnchanged) {
  ASSERT_EQ(backup({}).status, 0);
  fs::remove(rsync_started);
  const std::string before = destination_state(dest);
  const auto r = backup({"-i", "--pre-exec", "echo mounting; exit 7", "--post-exec", "touch '" + seen.string() + "'"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "mounting\nbkp: error: --pre-exec \"echo mounting; exit 7\" failed (exit status 7); the run is refused "
                   "and nothing in the destination was changed\n");
  EXPECT_EQ(destination_state(dest), before) << "DEST changed";
  EXPECT_FALSE(fs::exists(rsync_started)) << "rsync ran";
  EXPECT_FALSE(fs::exists(seen)) << "post-exec ran although the run never got past pre-exec";

  // A fresh destination is not even created; --json says refused.
  const fs::path fresh = tmp / "fresh";
  const auto j = run_bkp({"-q", "-s", src.string(), "-d", fresh.string(), "--json", "--pre-exec", "kill -KILL $$"});
  EXPECT_EQ(j.status, 1);
  EXPECT_NE(j.err.find("(killed by signal 9)"), std::string::npos) << j.err;
  EXPECT_FALSE(fs::exists(fresh));
  const auto summary = nlohmann::json::parse(j.out);
  EXPECT_EQ(summary["status"], "refused");
  EXPECT_EQ(summary["exit_code"], 1);
}

TEST_F(HookRuns, PreExecRunsBeforeAnythingInDestIsTouched) {
  // The usual case: DEST is on a disk that pre-exec mounts. Here it makes DEST's parent,
  // without which the run would be refused, and records what DEST held when it ran.
  const fs::path disk = tmp / "usb";
  const fs::path on_disk = disk / "backup";
  const std::string pre = "mkdir -p \"$(dirname \"$BKP_DESTINATION\")\" && ls -A \"$BKP_DESTINATION\" > '" +
                          (tmp / "seen-by-pre").string() + "' 2>&1; echo \"$BKP_JOB|$BKP_STATUS\" >> '" +
                          (tmp / "seen-by-pre").string() + "'; true";
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", on_disk.string()}).status, 1) << "refused without the disk";
  auto r = run_bkp({"-q", "-s", src.string(), "-d", on_disk.string(), "--pre-exec", pre});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(bkp::Destination::scan(on_disk).complete_count(), 1u);
  // The second run's pre-exec saw DEST as the first run left it (no lock taken yet, no new folder).
  const std::string left = run({"ls", "-A", on_disk.string()}).out;
  r = run_bkp({"-q", "-i", "-s", src.string(), "-d", on_disk.string(), "--pre-exec", pre});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(tmp / "seen-by-pre"), left + "|\n");
}

TEST_F(HookRuns, PostExecIsToldTheOutcomeOfEveryRun) {
  const std::string post = record_environment();
  // complete
  auto r = backup({"--post-exec", post});
  ASSERT_EQ(r.status, 0) << r.err;
  auto vars = recorded();
  const std::string first = bkp::Destination::scan(dest).newest_complete()->name;
  EXPECT_EQ(vars, (std::map<std::string, std::string>{{"BKP_DESTINATION", dest.string()},
                                                      {"BKP_EXIT_CODE", "0"},
                                                      {"BKP_JOB", ""},
                                                      {"BKP_MESSAGE", ""},
                                                      {"BKP_SNAPSHOT", first},
                                                      {"BKP_STATUS", "complete"}}));
  // complete without some files (rsync 23): exit 3
  r = backup({"-i", "--post-exec", post}, {{"FAKE_RSYNC_EXIT", "23"}});
  ASSERT_EQ(r.status, 3) << r.err;
  vars = recorded();
  EXPECT_EQ(vars["BKP_STATUS"], "complete");
  EXPECT_EQ(vars["BKP_EXIT_CODE"], "3");
  EXPECT_EQ(vars["BKP_SNAPSHOT"], bkp::Destination::scan(dest).newest_complete()->name);
  EXPECT_EQ(vars["BKP_MESSAGE"], "some files could not be read");
  // failed: the snapshot it left partial
  r = backup({"-i", "--post-exec", post}, {{"FAKE_RSYNC_EXIT", "11"}});
  ASSERT_EQ(r.status, 1) << r.err;
  vars = recorded();
  EXPECT_EQ(vars["BKP_STATUS"], "failed");
  EXPECT_EQ(vars["BKP_EXIT_CODE"], "1");
  EXPECT_EQ(vars["BKP_SNAPSHOT"], bkp::Destination::scan(dest).current()->partials().at(0)->name);
  EXPECT_NE(vars["BKP_MESSAGE"].find("rsync failed with exit status 11"), std::string::npos) << vars["BKP_MESSAGE"];
  EXPECT_EQ(vars["BKP_DESTINATION"], dest.string());
  // refused: no snapshot
  fs::rename(src, tmp / "away");
  r = backup({"-i", "--post-exec", post});
  ASSERT_EQ(r.status, 1) << r.err;
  vars = recorded();
  EXPECT_EQ(vars["BKP_STATUS"], "refused");
  EXPECT_EQ(vars["BKP_EXIT_CODE"], "1");
  EXPECT_EQ(vars["BKP_SNAPSHOT"], "");
  EXPECT_NE(vars["BKP_MESSAGE"].find(src.string()), std::string::npos) << vars["BKP_MESSAGE"];
  fs::rename(tmp / "away", src);
  // dry run
  r = backup({"-i", "-n", "--post-exec", post});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(recorded()["BKP_STATUS"], "dry-run");
}

TEST_F(HookRuns, AFailingPostExecIsReportedAndChangesNothing) {
  auto r = backup({"--post-exec", "exit 5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--post-exec \"exit 5\" failed (exit status 5)"), std::string::npos) << r.err;
  const auto store = bkp::Destination::scan(dest);
  ASSERT_EQ(store.complete_count(), 1u);
  EXPECT_TRUE(store.current()->partials().empty());
  // After a failed run the exit status stays that of the run.
  r = backup({"-i", "--post-exec", "exit 5"}, {{"FAKE_RSYNC_EXIT", "11"}});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("exit status 5"), std::string::npos) << r.err;
}

TEST_F(HookRuns, HookOutputNeverMixesIntoJson) {
  const auto r = backup({"--json", "--pre-exec", "echo from pre", "--post-exec", "echo from post; echo more >&2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "complete");
  EXPECT_NE(r.err.find("from pre\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("from post\nmore\n"), std::string::npos) << r.err;
}

TEST_F(HookRuns, PostExecSeesTheMetricsOfItsRunAndHooksWorkFromAJobFile) {
  const fs::path prom = tmp / "bkp.prom";
  write_file(tmp / "job.conf", "sources = " + src.string() + "\ndestination = " + dest.string() +
                                   "\nmetrics-file = " + prom.string() + "\npre-exec = touch '" +
                                   (tmp / "pre-ran").string() + "'\npost-exec = cp '" + prom.string() + "' '" +
                                   (tmp / "copy.prom").string() + "'\n");
  const auto r = run_bkp({"-q", "--config", (tmp / "job.conf").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp / "pre-ran"));
  EXPECT_EQ(read_file(tmp / "copy.prom"), read_file(prom)) << "post-exec ran before the metrics were written";
  EXPECT_EQ(metric(read_metrics(tmp / "copy.prom"), "bkp_last_run_success"), 1);
  // A refusal by pre-exec is a run too, for the metrics.
  const auto refused = run_bkp({"-q", "--config", (tmp / "job.conf").string(), "--pre-exec", "false"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_EQ(metric(read_metrics(prom), "bkp_last_run_success"), 0);
  EXPECT_EQ(metric(read_metrics(prom), "bkp_snapshots"), 1);
}
