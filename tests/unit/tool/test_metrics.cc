// The Prometheus textfile of --metrics-file, read back with the real parser
// (prometheus_client, through parse_metrics.py).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "metrics.h"

namespace fs = std::filesystem;
using namespace bkp;
using nlohmann::json;

namespace {

// What prometheus_client reads from `text`; fails the test when it does not parse.
json parse_exposition(const std::string& text) {
  const fs::path file = fs::temp_directory_path() / ("bkp-metrics-" + std::to_string(getpid()) + ".prom");
  std::ofstream(file, std::ios::binary) << text;
  const char* parser = std::getenv("METRICS_PARSER");  // set by meson
  const std::string command = std::string(parser ? parser : "tests/integration/tool/parse_metrics.py") + " " + file.string();
  FILE* out = ::popen(command.c_str(), "r");
  std::string printed;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) printed.append(buf, n);
  const int status = ::pclose(out);
  fs::remove(file);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "not valid exposition format:\n" << text;
  return printed.empty() ? json::array() : json::parse(printed);
}

const json* family(const json& families, const std::string& name) {
  for (const auto& f : families)
    if (f["name"] == name) return &f;
  return nullptr;
}

RunMetrics a_run() {
  RunMetrics m;
  m.destination = "/mnt/backup";
  m.ended = 1764560000;
  m.success = true;
  m.last_success = 1764560000;
  m.seconds = 12.5;
  m.transferred_bytes = 1234567;
  m.transferred_files = 12;
  m.added_bytes = 1000000;
  m.snapshots = 7;
  return m;
}

}  // namespace

TEST(Metrics, EveryGaugeHasHelpTypeAndTheDestinationLabel) {
  const json families = parse_exposition(render_metrics(a_run(), ""));
  const std::map<std::string, double> expected = {
      {"bkp_last_run_timestamp_seconds", 1764560000}, {"bkp_last_success_timestamp_seconds", 1764560000},
      {"bkp_last_run_success", 1},                    {"bkp_last_run_exit_code", 0},
      {"bkp_last_run_duration_seconds", 12.5},        {"bkp_last_run_transferred_bytes", 1234567},
      {"bkp_last_run_transferred_files", 12},         {"bkp_last_run_added_bytes", 1000000},
      {"bkp_snapshots", 7}};
  ASSERT_EQ(families.size(), expected.size()) << families.dump(1);
  for (const auto& [name, value] : expected) {
    const json* f = family(families, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ((*f)["type"], "gauge") << name;
    EXPECT_FALSE((*f)["help"].get<std::string>().empty()) << name;
    ASSERT_EQ((*f)["samples"].size(), 1u) << name;
    EXPECT_EQ((*f)["samples"][0]["labels"], (json{{"destination", "/mnt/backup"}})) << name;
    EXPECT_DOUBLE_EQ((*f)["samples"][0]["value"].get<double>(), value) << name;
  }
}

TEST(Metrics, LabelValuesAreEscapedAsTheFormatSays) {
  RunMetrics m = a_run();
  m.destination = "/mnt/a \"quoted\" back\\slash\nnew line";
  m.job = "h\xc3\xa9me \xff";  // UTF-8, then a byte that is not
  EXPECT_EQ(metric_labels(m.destination, m.job),
            "destination=\"/mnt/a \\\"quoted\\\" back\\\\slash\\nnew line\",job=\"h\xc3\xa9me \xef\xbf\xbd\"");
  const json families = parse_exposition(render_metrics(m, ""));
  const json labels = (*family(families, "bkp_snapshots"))["samples"][0]["labels"];
  EXPECT_EQ(labels["destination"], m.destination);
  EXPECT_EQ(labels["job"], "h\xc3\xa9me \xef\xbf\xbd");
}

TEST(Metrics, OtherDestinationsAndJobsInTheFileAreKept) {
  RunMetrics home = a_run();
  home.job = "home";
  RunMetrics etc = a_run();
  etc.destination = "/mnt/etc";
  etc.job = "etc";
  etc.snapshots = 3;
  std::string text = render_metrics(etc, render_metrics(home, ""));
  home.snapshots = 8;  // home's next run replaces its own samples only
  text = render_metrics(home, text);
  const json families = parse_exposition(text);
  const json& samples = (*family(families, "bkp_snapshots"))["samples"];
  ASSERT_EQ(samples.size(), 2u) << text;
  EXPECT_EQ(samples[0]["labels"]["job"], "home");
  EXPECT_EQ(samples[0]["value"], 8);
  EXPECT_EQ(samples[1]["labels"]["job"], "etc");
  EXPECT_EQ(samples[1]["value"], 3);
  EXPECT_EQ(families.size(), 9u) << "one HELP/TYPE per gauge, however many label sets";
}

TEST(Metrics, APreviousValueIsFoundByItsExactLabels) {
  RunMetrics home = a_run();
  home.job = "home";
  home.last_success = 1700000000;
  const std::string text = render_metrics(home, "");
  EXPECT_EQ(previous_sample(text, "bkp_last_success_timestamp_seconds", metric_labels("/mnt/backup", "home")), 1700000000);
  EXPECT_FALSE(previous_sample(text, "bkp_last_success_timestamp_seconds", metric_labels("/mnt/backup", "")));
  EXPECT_FALSE(previous_sample(text, "bkp_no_such_metric", metric_labels("/mnt/backup", "home")));
  EXPECT_FALSE(previous_sample("garbage{ 1\n{}\n", "bkp_snapshots", metric_labels("/mnt/backup", "")));
}

TEST(Metrics, LinesBkpDoesNotWriteAreDropped) {
  const std::string previous = "# a comment\nother_metric 1\nbkp_unknown{destination=\"/x\"} 2\nnot a line at all\n";
  const std::string text = render_metrics(a_run(), previous);
  EXPECT_EQ(text.find("other_metric"), std::string::npos);
  EXPECT_EQ(text.find("bkp_unknown"), std::string::npos);
  EXPECT_EQ(parse_exposition(text).size(), 9u);
}
