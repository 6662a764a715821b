#include <gtest/gtest.h>

#include "remote_preflight.h"

using namespace bkp;

namespace {

std::vector<SourceSpec> specs(std::vector<std::string> given) {
  std::vector<SourceSpec> out;
  for (const auto& g : given) out.push_back(parse_source(g));
  return out;
}

// What `rsync --list-only --dirs --relative` printed for web1:/srv/www/ :/srv/empty/ ...
const std::vector<std::string> kListing = {
    "drwxr-xr-x           4096 2026/12/01 09:20:54 srv",
    "drwxr-xr-x           4096 2026/12/01 09:20:42 srv/www",
    "-rw-r--r--              2 2026/12/01 09:20:42 srv/www/index.html",
    "drwxr-xr-x           4096 2026/12/01 09:20:42 srv/empty",
    "-rw-r--r--              0 2026/12/01 09:20:42 srv/file",
    "drwxr-xr-x           4096 2026/12/01 09:20:42 srv/odd name\\#012x",
    "lrwxrwxrwx              3 2026/12/01 09:20:42 srv/odd name\\#012x/l -> a b",
    "drwx------           4096 2026/12/01 09:20:42 srv/locked",
    "drwxr-xr-x           4096 2026/12/01 09:20:42 data",
    "-rw-r--r--              2 2026/12/01 09:20:42 data/x",
};

}  // namespace

TEST(RemotePreflight, OneListingPerLoginWithTrailingSlashes) {
  const auto argv = listing_argv("rsync", "ssh -p 2222", specs({"root@web1:/srv/www", "root@web1:/etc/", "root@web1:data"}));
  EXPECT_EQ(argv, (std::vector<std::string>{"rsync", "--list-only", "--dirs", "--relative", "--no-human-readable",
                                            "--rsh=ssh -p 2222", "--", "root@web1:/srv/www/", ":/etc/", ":data/"}));
  EXPECT_EQ(listing_argv("rsync", "ssh", specs({"[::1]:/srv"})).back(), "[::1]:/srv/");
}

TEST(RemotePreflight, ParsesListingLines) {
  auto e = parse_listing_line("drwxr-xr-x           4096 2026/12/01 09:20:42 srv/odd name\\#012x");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, 'd');
  EXPECT_EQ(e->name, "srv/odd name\nx");
  e = parse_listing_line("lrwxrwxrwx              3 2026/12/01 09:20:42 srv/l -> a b");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, 'l');
  EXPECT_EQ(e->name, "srv/l");
  EXPECT_EQ(parse_listing_line("-rw-r--r--  1 2026/12/01 09:20:42  two spaces")->name, " two spaces");
  EXPECT_FALSE(parse_listing_line("sent 81 bytes  received 239 bytes"));
  EXPECT_EQ(unescape_rsync_name("a\\#134#b\\#1\\"), "a\\#b\\#1\\");
}

TEST(RemotePreflight, AGoodDirectoryPasses) {
  EXPECT_TRUE(judge_listing(specs({"web1:/srv/www", "web1:data", "web1:/srv/odd name\nx"}), {0, kListing, {}}, false).empty());
}

TEST(RemotePreflight, SameRefusalsAsLocalSources) {
  const ListingOutput listing{23, kListing,
                              {"rsync: [sender] link_stat \"/srv/nope\" failed: No such file or directory (2)",
                               "rsync: [sender] opendir \"/srv/locked\" failed: Permission denied (13)",
                               "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at "
                               "main.c(1956) [generator=3.5.0]"}};
  const auto refusals =
      judge_listing(specs({"web1:/srv/nope", "web1:/srv/file", "web1:/srv/empty/", "web1:/srv/locked", "web1:/srv/www"}),
                    listing, false);
  EXPECT_EQ(refusals, (std::vector<std::string>{
                          "source web1:/srv/nope: does not exist",
                          "source web1:/srv/file: not a directory",
                          "source web1:/srv/empty/: is empty (a missing mount?); use --allow-empty to back it up anyway",
                          "source web1:/srv/locked: cannot read it: Permission denied",
                      }));
  EXPECT_EQ(judge_listing(specs({"web1:/srv/empty"}), listing, true).size(), 0u);
}

TEST(RemotePreflight, RelativePathsMatchTheirHomeDirectoryErrors) {
  const ListingOutput listing{23, {}, {"rsync: [sender] link_stat \"/home/ann/data\" failed: No such file or directory (2)"}};
  EXPECT_EQ(judge_listing(specs({"ann@web1:data"}), listing, false),
            (std::vector<std::string>{"source ann@web1:data: does not exist"}));
}

TEST(RemotePreflight, AnUnreachableHostIsOneLinePassingOnWhatSshSaid) {
  const ListingOutput refused{12, {}, {"root@web1: Permission denied (publickey).",
                                       "rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]",
                                       "rsync error: error in rsync protocol data stream (code 12) at io.c(285) [Receiver=3.5.0]"}};
  EXPECT_EQ(judge_listing(specs({"root@web1:/srv", "root@web1:/etc"}), refused, false),
            (std::vector<std::string>{"sources root@web1:/srv, root@web1:/etc: cannot list them on root@web1: "
                                      "root@web1: Permission denied (publickey)."}));
  const ListingOutput down{255, {}, {"ssh: connect to host web1 port 22: Connection refused",
                                     "rsync error: unexplained error (code 255) at io.c(285) [Receiver=3.5.0]"}};
  EXPECT_EQ(judge_listing(specs({"web1:/srv"}), down, false),
            (std::vector<std::string>{"source web1:/srv: cannot list it on web1: ssh: connect to host web1 port 22: "
                                      "Connection refused"}));
  const ListingOutput other{2, {}, {"protocol version mismatch -- is your shell clean?",
                                    "rsync error: protocol incompatibility (code 2) at compat.c(622) [Receiver=3.5.0]"}};
  EXPECT_EQ(judge_listing(specs({"web1:/srv"}), other, false),
            (std::vector<std::string>{"source web1:/srv: rsync on web1 failed with exit status 2: protocol version "
                                      "mismatch -- is your shell clean?"}));
}
