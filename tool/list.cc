#include "list.h"

#include <cstdio>
#include <filesystem>
#include <string>

#include "disk_usage.h"
#include "errors.h"
#include "json.h"
#include "store.h"

namespace fs = std::filesystem;

namespace bkp {
namespace {

std::string human(uint64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
  return buf;
}

struct Row {
  const Series* series;
  const Snapshot* snapshot;
  Usage usage;
};

}  // namespace

int run_list(const ListOptions& options) {
  const fs::path root = fs::absolute(options.destination).lexically_normal();
  if (!fs::is_directory(root)) throw Failure("destination " + options.destination + ": not a directory");
  if (!Destination::looks_like_destination(root))
    throw Failure("destination " + options.destination + ": holds no bkp series (no 0/cfg.ini)");
  const Destination dest = Destination::scan(root);

  std::vector<Row> rows;
  UsageCounter counter;
  for (const auto& series : dest.series)
    for (const auto& snap : series.snapshots)
      rows.push_back({&series, &snap, options.sizes ? counter.measure(snap.path) : Usage{}});

  if (options.json) {
    std::printf("{\"destination\": %s, \"snapshots\": [", json_quote(root.string()).c_str());
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      std::printf("%s\n  {\"name\": %s, \"series\": %s, \"current\": %s, \"status\": %s, \"path\": %s",
                  i ? "," : "", json_quote(r.snapshot->name).c_str(), json_quote(r.series->folder).c_str(),
                  r.series->is_current() ? "true" : "false",
                  json_quote(r.snapshot->complete ? "complete" : "partial").c_str(),
                  json_quote(r.snapshot->path.string()).c_str());
      if (options.sizes)
        std::printf(", \"files\": %llu, \"apparent_bytes\": %llu, \"added_bytes\": %llu",
                    static_cast<unsigned long long>(r.usage.files), static_cast<unsigned long long>(r.usage.apparent),
                    static_cast<unsigned long long>(r.usage.added));
      std::printf("}");
    }
    std::printf("\n]}\n");
    return kExitOk;
  }

  std::printf("%-21s %-21s %-9s %10s %10s %10s\n", "SERIES", "SNAPSHOT", "STATUS", "FILES", "SIZE", "ADDED");
  for (const auto& r : rows) {
    const std::string series = r.series->is_current() ? "0 (current)" : r.series->folder;
    std::printf("%-21s %-21s %-9s %10s %10s %10s\n", series.c_str(), r.snapshot->name.c_str(),
                r.snapshot->complete ? "complete" : "partial",
                options.sizes ? std::to_string(r.usage.files).c_str() : "-",
                options.sizes ? human(r.usage.apparent).c_str() : "-", options.sizes ? human(r.usage.added).c_str() : "-");
  }
  return kExitOk;
}

}  // namespace bkp
