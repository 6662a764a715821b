// Reads a --metrics-file back with the real Prometheus parser (parse_metrics.py, on
// prometheus_client): the samples by metric name, for the metrics and hooks tests.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>
#include <string>

#include "harness.h"

namespace bkptest {

struct MetricSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// name -> samples; an empty map (and a test failure) when the file does not parse.
inline std::map<std::string, std::vector<MetricSample>> read_metrics(const fs::path& file) {
  const char* parser = std::getenv("METRICS_PARSER");
  const auto r = run({parser ? parser : "parse_metrics.py", file.string()});
  EXPECT_EQ(r.status, 0) << "not valid exposition format: " << r.err << "\n" << read_file(file);
  std::map<std::string, std::vector<MetricSample>> out;
  if (r.status != 0) return out;
  for (const auto& family : nlohmann::json::parse(r.out)) {
    EXPECT_EQ(family["type"], "gauge") << family["name"];
    EXPECT_NE(family["help"], "") << family["name"];
    for (const auto& s : family["samples"])
      out[s["name"]].push_back({s["labels"].get<std::map<std::string, std::string>>(), s["value"].get<double>()});
  }
  return out;
}

// The one sample of `name` (a test failure when there is not exactly one).
inline double metric(const std::map<std::string, std::vector<MetricSample>>& metrics, const std::string& name) {
  const auto it = metrics.find(name);
  if (it == metrics.end() || it->second.size() != 1) {
    ADD_FAILURE() << name << ": not exactly one sample";
    return -1;
  }
  return it->second[0].value;
}

}  // namespace bkptest
