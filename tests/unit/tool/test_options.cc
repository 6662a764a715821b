#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backup_options.h"
#include "errors.h"

using namespace bkp;

namespace {
BackupOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), "bkp");
  return parse_backup_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST(Options, SeedCompatibleForms) {
  auto o = parse({"-s", "/a", "/b", "-d", "/dest", "-i"});
  EXPECT_EQ(o.sources, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(o.destination, "/dest");
  EXPECT_TRUE(o.incremental);
  o = parse({"--sources", "/a", "--destination", "/dest", "--incremental"});
  EXPECT_TRUE(o.incremental);
}

TEST(Options, EverydayFlags) {
  auto o = parse({"-s", "/a", "-d", "/d", "-c", "-n", "-q", "--exclude", "*.o", "--exclude", "tmp/",
                  "--exclude-from", "/x", "--allow-empty", "--discard-partial", "--log-file", "/tmp/l", "--no-reflink"});
  EXPECT_TRUE(o.checksum);
  EXPECT_TRUE(o.dry_run);
  EXPECT_TRUE(o.allow_empty);
  EXPECT_TRUE(o.discard_partial);
  EXPECT_FALSE(o.reflink);
  EXPECT_EQ(o.log.verbosity, -1);
  EXPECT_EQ(o.excludes, (std::vector<std::string>{"*.o", "tmp/"}));
  EXPECT_EQ(o.log.log_file, std::filesystem::path("/tmp/l"));
  EXPECT_TRUE(parse({"-s", "/a", "-d", "/d"}).reflink);
}

TEST(Options, UsageErrors) {
  EXPECT_THROW(parse({"-d", "/d"}), UsageError);
  EXPECT_THROW(parse({"-s", "/a"}), UsageError);
  EXPECT_THROW(parse({"-s", "/a", "-d", "/d", "--bogus"}), UsageError);
}

TEST(Options, ConfigFileUsesTheSameNames) {
  const auto file = std::filesystem::temp_directory_path() / ("bkp-cfg-" + std::to_string(getpid()));
  std::ofstream(file) << "sources = /a\nsources = /b\ndestination = /dest\nincremental = true\nexclude = *.tmp\n";
  auto o = parse({"--config", file.c_str()});
  EXPECT_EQ(o.sources, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(o.destination, "/dest");
  EXPECT_TRUE(o.incremental);
  // The command line wins over the file for single values.
  o = parse({"--config", file.c_str(), "-d", "/other"});
  EXPECT_EQ(o.destination, "/other");
  std::filesystem::remove(file);
  EXPECT_THROW(parse({"--config", "/nonexistent/file"}), UsageError);
}

TEST(Options, MetricsFileAndHooksOnTheCommandLineAndInAJobFile) {
  auto o = parse({"-s", "/a", "-d", "/d", "--metrics-file", "/var/lib/prometheus/node-exporter/bkp.prom", "--pre-exec",
                  "mount /mnt/usb", "--post-exec", "umount /mnt/usb"});
  EXPECT_EQ(o.metrics_file, "/var/lib/prometheus/node-exporter/bkp.prom");
  EXPECT_EQ(o.pre_exec, "mount /mnt/usb");
  EXPECT_EQ(o.post_exec, "umount /mnt/usb");
  const auto file = std::filesystem::temp_directory_path() / ("bkp-job-" + std::to_string(getpid()));
  std::ofstream(file) << "sources = /a\ndestination = /d\nmetrics-file = /m/bkp.prom\n"
                         "pre-exec = pg_dump -f /a/db.sql mydb\npost-exec = logger -t bkp \"$BKP_STATUS\"\n";
  o = parse({"--config", file.c_str()});
  EXPECT_EQ(o.metrics_file, "/m/bkp.prom");
  EXPECT_EQ(o.pre_exec, "pg_dump -f /a/db.sql mydb");
  EXPECT_EQ(o.post_exec, "logger -t bkp \"$BKP_STATUS\"");
  std::filesystem::remove(file);
  EXPECT_TRUE(parse({"-s", "/a", "-d", "/d"}).metrics_file.empty());
  EXPECT_THROW(parse({"-s", "/a", "-d", "/d", "--metrics-file", "/var/lib/node-exporter/"}), UsageError);
  EXPECT_THROW(parse({"-s", "/a", "-d", "/d", "--metrics-file", "."}), UsageError);
  EXPECT_THROW(parse({"-s", "/a", "-d", "/d", "--pre-exec"}), UsageError);
}

TEST(Options, AHashInsideAValueOfAConfigFileIsKept) {
  const auto file = std::filesystem::temp_directory_path() / ("bkp-cfg-hash-" + std::to_string(getpid()));
  std::ofstream(file) << "# a comment\nsources = /a\ndestination = /d\nexclude = #*#\n  ; another comment\n"
                         "post-exec = echo \"run #1\"\n";
  auto o = parse({"--config", file.c_str()});
  EXPECT_EQ(o.excludes, (std::vector<std::string>{"#*#"}));
  EXPECT_EQ(o.post_exec, "echo \"run #1\"");
  std::ofstream(file) << "sources = /a\ndestination = /d\nfrobnicate = yes\n";
  EXPECT_THROW(parse({"--config", file.c_str()}), UsageError);
  std::filesystem::remove(file);
}

TEST(Options, RemoteSourcesNeverPromptByDefault) {
  const auto o = parse({"-s", "web1:/srv", "-d", "/d"});
  EXPECT_EQ(o.rsh, kDefaultRsh);
  EXPECT_NE(o.rsh.find("-o BatchMode=yes"), std::string::npos);
  EXPECT_EQ(parse({"-s", "web1:/srv", "-d", "/d", "--rsh", "ssh -p 2222"}).rsh, "ssh -p 2222");
}

TEST(Options, TheJobNameOfBkpRunIsHidden) {
  EXPECT_EQ(parse({"-s", "/a", "-d", "/d", "--job-name", "web1"}).log.job, "web1");
  BackupOptions unused;
  std::ostringstream help;
  help << backup_option_table(unused);
  EXPECT_EQ(help.str().find("job-name"), std::string::npos);
}
