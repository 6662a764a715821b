// --metrics-file: the Prometheus textfile the built bkp writes after every run, read back
// with prometheus_client. The fake rsync only to force a failure.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>

#include "harness.h"
#include "metrics_reader.h"
#include "store.h"
#include "timestamp.h"

using namespace bkptest;

namespace {

class MetricsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(src / "a.txt", "some bytes\n");
    write_file(src / "sub/b.txt", std::string(5000, 'b'));
    fs::create_directories(prom_dir);
  }
  RunResult backup(std::vector<std::string> extra, std::map<std::string, std::string> fake = {}) {
    std::vector<std::string> args = {"-q", "-s", src.string(), "-d", dest.string(), "--metrics-file", prom.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunOptions options;
    if (!fake.empty()) {
      options.env = fake;
      options.env["BKP_RSYNC"] = fake_rsync();
    }
    return run_bkp(args, options);
  }
  // Every sample is labelled with DEST and only with it.
  void expect_labelled(const std::map<std::string, std::vector<MetricSample>>& m, const fs::path& d) {
    for (const auto& [name, samples] : m)
      for (const auto& s : samples)
        EXPECT_EQ(s.labels, (std::map<std::string, std::string>{{"destination", d.string()}})) << name;
  }

  TempDir tmp;
  fs::path src = tmp / "src";
  fs::path dest = tmp / "dest";
  fs::path prom_dir = tmp / "node-exporter";
  fs::path prom = prom_dir / "bkp.prom";
};

const std::vector<std::string> kGauges = {
    "bkp_last_run_timestamp_seconds", "bkp_last_success_timestamp_seconds", "bkp_last_run_success",
    "bkp_last_run_exit_code",         "bkp_last_run_duration_seconds",      "bkp_last_run_transferred_bytes",
    "bkp_last_run_transferred_files", "bkp_last_run_added_bytes",           "bkp_snapshots"};

}  // namespace

TEST_F(MetricsFile, AfterASuccessfulRun) {
  const std::time_t before = std::time(nullptr);
  ASSERT_EQ(backup({}).status, 0);
  const std::time_t after = std::time(nullptr);
  auto m = read_metrics(prom);
  for (const auto& name : kGauges) EXPECT_EQ(m.count(name), 1u) << name;
  expect_labelled(m, dest);
  const auto store = bkp::Destination::scan(dest);
  const auto& journal = store.newest_complete()->journal;
  EXPECT_EQ(metric(m, "bkp_last_run_success"), 1);
  EXPECT_EQ(metric(m, "bkp_last_run_exit_code"), 0);
  EXPECT_GE(metric(m, "bkp_last_run_timestamp_seconds"), before);
  EXPECT_LE(metric(m, "bkp_last_run_timestamp_seconds"), after);
  EXPECT_EQ(metric(m, "bkp_last_success_timestamp_seconds"), metric(m, "bkp_last_run_timestamp_seconds"));
  EXPECT_GE(metric(m, "bkp_last_run_duration_seconds"), 0);
  EXPECT_LE(metric(m, "bkp_last_run_duration_seconds"), after - before + 1);
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_bytes"), std::stod(journal.at("bytes")));
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_files"), std::stod(journal.at("files")));
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_files"), 2);
  EXPECT_EQ(metric(m, "bkp_snapshots"), 1);

  write_file(src / "c.txt", "new\n");
  ASSERT_EQ(backup({"-i"}).status, 0);
  m = read_metrics(prom);
  EXPECT_EQ(metric(m, "bkp_snapshots"), 2);
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_files"), 1) << "the increment transfers only the new file";
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_bytes"), 4);
  // The file is bkp's own: a temporary name never stays behind.
  for (const auto& e : fs::directory_iterator(prom_dir)) EXPECT_EQ(e.path(), prom);
}

TEST_F(MetricsFile, AfterAFailedRunTheLastSuccessIsKept) {
  ASSERT_EQ(backup({}).status, 0);
  const double success = metric(read_metrics(prom), "bkp_last_success_timestamp_seconds");
  ASSERT_EQ(backup({"-i"}, {{"FAKE_RSYNC_EXIT", "11"}}).status, 1);
  auto m = read_metrics(prom);
  expect_labelled(m, dest);
  EXPECT_EQ(metric(m, "bkp_last_run_success"), 0);
  EXPECT_EQ(metric(m, "bkp_last_run_exit_code"), 1);
  EXPECT_EQ(metric(m, "bkp_last_success_timestamp_seconds"), success) << "kept from the previous file";
  EXPECT_GE(metric(m, "bkp_last_run_timestamp_seconds"), success);
  EXPECT_EQ(metric(m, "bkp_snapshots"), 1) << "the partial snapshot is not counted";

  // Without a previous file the journal tells when the newest complete snapshot ended.
  fs::remove(prom);
  ASSERT_EQ(backup({"-i"}, {{"FAKE_RSYNC_EXIT", "11"}}).status, 1);
  m = read_metrics(prom);
  const auto finished = bkp::parse_timestamp(bkp::Destination::scan(dest).newest_complete()->journal.at("finished"));
  ASSERT_TRUE(finished);
  EXPECT_EQ(metric(m, "bkp_last_success_timestamp_seconds"), *finished);
  EXPECT_EQ(metric(m, "bkp_last_run_success"), 0);
}

TEST_F(MetricsFile, AfterARefusedRunAndWithoutAnySnapshot) {
  fs::rename(src, tmp / "away");
  ASSERT_EQ(backup({}).status, 1);
  auto m = read_metrics(prom);
  expect_labelled(m, dest);
  EXPECT_EQ(metric(m, "bkp_last_run_success"), 0);
  EXPECT_EQ(metric(m, "bkp_last_run_exit_code"), 1);
  EXPECT_EQ(metric(m, "bkp_last_success_timestamp_seconds"), 0) << "never";
  EXPECT_EQ(metric(m, "bkp_snapshots"), 0);
  EXPECT_EQ(metric(m, "bkp_last_run_transferred_bytes"), 0);

  // A refusal after a success: rewritten (a new file, renamed into place), the success kept.
  fs::rename(tmp / "away", src);
  ASSERT_EQ(backup({}).status, 0);
  const double success = metric(read_metrics(prom), "bkp_last_success_timestamp_seconds");
  const ino_t first = inode_of(prom);
  fs::rename(src, tmp / "away");
  ASSERT_EQ(backup({"-i"}).status, 1);
  EXPECT_NE(inode_of(prom), first) << "not rewritten after the refused run";
  m = read_metrics(prom);
  EXPECT_EQ(metric(m, "bkp_last_run_success"), 0);
  EXPECT_EQ(metric(m, "bkp_last_success_timestamp_seconds"), success);
  EXPECT_EQ(metric(m, "bkp_snapshots"), 1);
}

TEST_F(MetricsFile, ASymlinkAtTheFileIsReplacedNeverWrittenThrough) {
  write_file(tmp / "precious", "precious\n");
  fs::create_symlink(tmp / "precious", prom);
  ASSERT_EQ(backup({}).status, 0);
  EXPECT_EQ(read_file(tmp / "precious"), "precious\n");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(prom)));
  EXPECT_EQ(metric(read_metrics(prom), "bkp_last_run_success"), 1);
  struct stat st {};
  ASSERT_EQ(::stat(prom.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << "node_exporter must be able to read it";
}

TEST_F(MetricsFile, DestinationsSharingOneFileKeepEachOthersSamples) {
  const fs::path other = tmp / "dest \"two\" \\ b";  // a label value that needs escaping
  ASSERT_EQ(backup({}).status, 0);
  ASSERT_EQ(run_bkp({"-q", "-s", src.string(), "-d", other.string(), "--metrics-file", prom.string()}).status, 0);
  ASSERT_EQ(backup({"-i"}).status, 0);
  const auto m = read_metrics(prom);
  for (const auto& name : kGauges) {
    ASSERT_EQ(m.at(name).size(), 2u) << name;
    EXPECT_EQ(m.at(name)[0].labels.at("destination"), dest.string());
    EXPECT_EQ(m.at(name)[1].labels.at("destination"), other.string());
  }
  EXPECT_EQ(m.at("bkp_snapshots")[0].value, 2);
  EXPECT_EQ(m.at("bkp_snapshots")[1].value, 1);
}

TEST_F(MetricsFile, FromAJobFileAndNotOnADryRun) {
  write_file(tmp / "job.conf", "sources = " + src.string() + "\ndestination = " + dest.string() +
                                   "\nmetrics-file = " + prom.string() + "\n");
  ASSERT_EQ(run_bkp({"-q", "-n", "--config", (tmp / "job.conf").string()}).status, 0);
  EXPECT_FALSE(fs::exists(prom)) << "a dry run is not a run";
  ASSERT_EQ(run_bkp({"-q", "--config", (tmp / "job.conf").string()}).status, 0);
  EXPECT_EQ(metric(read_metrics(prom), "bkp_last_run_success"), 1);
}

TEST_F(MetricsFile, AFileThatCannotBeWrittenIsAnErrorLineButTheRunStands) {
  const auto r = run_bkp({"-q", "-s", src.string(), "-d", dest.string(), "--metrics-file", (tmp / "no/such/dir/bkp.prom").string()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--metrics-file " + (tmp / "no/such/dir/bkp.prom").string()), std::string::npos) << r.err;
  EXPECT_EQ(bkp::Destination::scan(dest).complete_count(), 1u);
  EXPECT_EQ(run_bkp({"-s", src.string(), "-d", dest.string(), "--metrics-file", prom_dir.string() + "/"}).status, 2);
}
