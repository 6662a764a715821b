#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "errors.h"
#include "options.h"

using namespace bkp;

namespace {
CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "bkp");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST(Options, SeedCompatibleForms) {
  auto cl = parse({"-s", "/a", "/b", "-d", "/dest", "-i"});
  EXPECT_EQ(cl.command, CommandLine::Command::backup);
  EXPECT_EQ(cl.backup.sources, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(cl.backup.destination, "/dest");
  EXPECT_TRUE(cl.backup.incremental);
  cl = parse({"--sources", "/a", "--destination", "/dest", "--incremental"});
  EXPECT_TRUE(cl.backup.incremental);
}

TEST(Options, EverydayFlags) {
  auto cl = parse({"-s", "/a", "-d", "/d", "-c", "-n", "-q", "--exclude", "*.o", "--exclude", "tmp/",
                   "--exclude-from", "/x", "--allow-empty", "--discard-partial", "--log-file", "/tmp/l"});
  EXPECT_TRUE(cl.backup.checksum);
  EXPECT_TRUE(cl.backup.dry_run);
  EXPECT_TRUE(cl.backup.allow_empty);
  EXPECT_TRUE(cl.backup.discard_partial);
  EXPECT_EQ(cl.backup.log.verbosity, -1);
  EXPECT_EQ(cl.backup.excludes, (std::vector<std::string>{"*.o", "tmp/"}));
  EXPECT_EQ(cl.backup.log.log_file, std::filesystem::path("/tmp/l"));
}

TEST(Options, UsageErrors) {
  EXPECT_THROW(parse({}), UsageError);
  EXPECT_THROW(parse({"-d", "/d"}), UsageError);
  EXPECT_THROW(parse({"-s", "/a"}), UsageError);
  EXPECT_THROW(parse({"-s", "/a", "-d", "/d", "--bogus"}), UsageError);
  EXPECT_THROW(parse({"list"}), UsageError);
  EXPECT_THROW(parse({"prune", "-d", "/d"}), UsageError);
}

TEST(Options, ListAndHelp) {
  auto cl = parse({"list", "-d", "/d", "--json"});
  EXPECT_EQ(cl.command, CommandLine::Command::list);
  EXPECT_TRUE(cl.list.json);
  EXPECT_EQ(parse({"--help"}).command, CommandLine::Command::help);
  EXPECT_EQ(parse({"list", "--help"}).command, CommandLine::Command::help);
  EXPECT_EQ(parse({"--version"}).command, CommandLine::Command::version);
}

TEST(Options, ConfigFileUsesTheSameNames) {
  const auto file = std::filesystem::temp_directory_path() / ("bkp-cfg-" + std::to_string(getpid()));
  std::ofstream(file) << "sources = /a\nsources = /b\ndestination = /dest\nincremental = true\nexclude = *.tmp\n";
  auto cl = parse({"--config", file.c_str()});
  EXPECT_EQ(cl.backup.sources, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(cl.backup.destination, "/dest");
  EXPECT_TRUE(cl.backup.incremental);
  // The command line wins over the file for single values.
  cl = parse({"--config", file.c_str(), "-d", "/other"});
  EXPECT_EQ(cl.backup.destination, "/other");
  std::filesystem::remove(file);
  EXPECT_THROW(parse({"--config", "/nonexistent/file"}), UsageError);
}
