#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "errors.h"
#include "source_spec.h"

using namespace bkp;

TEST(SourceSpec, LocalPathsAreLocal) {
  for (const char* given : {"/home", "home", "./a:b", "/x/a:b", "user@host", "a/b:c", "[::1]", "[x]/y:z"}) {
    const SourceSpec s = parse_source(given);
    EXPECT_FALSE(s.remote()) << given;
    EXPECT_EQ(s.path, given);
    EXPECT_EQ(s.rsync_argument(), given);
  }
}

TEST(SourceSpec, AColonBeforeTheFirstSlashMakesItRemote) {
  SourceSpec s = parse_source("web1:/srv/www/");
  EXPECT_TRUE(s.remote());
  EXPECT_EQ(s.user, "");
  EXPECT_EQ(s.host, "web1");
  EXPECT_EQ(s.path, "/srv/www");
  EXPECT_EQ(s.given, "web1:/srv/www/");
  EXPECT_EQ(s.login(), "web1");
  EXPECT_EQ(s.rsync_argument(), "web1:/srv/www");
  EXPECT_EQ(s.name(), "www");

  s = parse_source("backup@db.example.org:/var/lib/pg");
  EXPECT_EQ(s.user, "backup");
  EXPECT_EQ(s.host, "db.example.org");
  EXPECT_EQ(s.login(), "backup@db.example.org");
  EXPECT_EQ(s.name(), "pg");

  s = parse_source("a:b");  // rsync's rule: relative to the remote home; "./a:b" is the local file
  EXPECT_TRUE(s.remote());
  EXPECT_EQ(s.host, "a");
  EXPECT_EQ(s.path, "b");
  EXPECT_EQ(s.rsync_argument(), "a:b");
  EXPECT_EQ(s.name(), "b");

  s = parse_source("odd@user@host:/p");  // the user is everything before the last '@'
  EXPECT_EQ(s.user, "odd@user");
  EXPECT_EQ(s.host, "host");
}

TEST(SourceSpec, Ipv6AddressesAreInBrackets) {
  SourceSpec s = parse_source("[::1]:/srv");
  EXPECT_TRUE(s.remote());
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.path, "/srv");
  EXPECT_EQ(s.rsync_login(), "[::1]");
  EXPECT_EQ(s.rsync_argument(), "[::1]:/srv");
  s = parse_source("root@[fe80::1%eth0]:/etc/");
  EXPECT_EQ(s.user, "root");
  EXPECT_EQ(s.host, "fe80::1%eth0");
  EXPECT_EQ(s.login(), "root@fe80::1%eth0");
  EXPECT_EQ(s.rsync_argument(), "root@[fe80::1%eth0]:/etc");
  EXPECT_EQ(s.name(), "etc");
}

TEST(SourceSpec, RemotePathsAreNormalForRsync) {
  const SourceSpec s = parse_source("h:/srv/./www//");
  EXPECT_EQ(s.normal_path(), "/srv/www");
  EXPECT_EQ(s.rsync_argument(), "h:/srv/www");
  EXPECT_EQ(s.given, "h:/srv/./www//");  // the journal's record
}

TEST(SourceSpec, DaemonSourcesAndMissingHostsAreUsageErrors) {
  for (const char* given : {"", "host::module", "host::module/x", "rsync://host/module", "RSYNC://host/m", ":/srv"})
    EXPECT_THROW(parse_source(given), UsageError) << given;
}

TEST(SourceSpec, NamesMustExistAndDiffer) {
  EXPECT_EQ(parse_sources({"web1:/srv/www", "web2:/etc", "/home"}).size(), 3u);
  for (const std::vector<std::string>& clash :
       {std::vector<std::string>{"web1:/srv/www", "web2:/srv/www"}, {"/var/www", "web1:/srv/www"}, {"/a/x", "/b/x/"}}) {
    try {
      parse_sources(clash);
      ADD_FAILURE() << clash[1];
    } catch (const Failure& e) {
      EXPECT_EQ(e.exit_code(), kExitFailure);
      EXPECT_NE(std::string(e.what()).find("source " + clash[1] + ": another source has the same name"), std::string::npos)
          << e.what();
    }
  }
  for (const char* nameless : {"web1:", "web1:/", "web1:.", "/", "web1:/srv/.."}) {
    try {
      parse_sources({nameless});
      ADD_FAILURE() << nameless;
    } catch (const UsageError&) {
      ADD_FAILURE() << nameless << " is not a usage error";
    } catch (const Failure& e) {
      EXPECT_NE(std::string(e.what()).find("has no name to store it under"), std::string::npos) << e.what();
    }
  }
}

TEST(SourceSpec, LocalNamesComeFromTheAbsolutePath) {
  const auto cwd = std::filesystem::current_path();
  EXPECT_EQ(parse_source(".").name(), cwd.filename().string());
  EXPECT_EQ(parse_source("/srv/www/").name(), "www");
}
