// What a source on the command line names: a local directory, or a directory on another
// machine in rsync's own syntax, [user@]host:/path, pulled over ssh. Pure: no I/O.
//
// rsync's rules, which bkp follows so that a source means what it would mean to rsync:
//   - a colon before the first slash makes a source remote: "web1:/srv/www", "root@web1:/etc",
//     "web1:data" (relative to the remote user's home); "./a:b" and "/x/a:b" are local;
//   - an IPv6 address is written in brackets: "[::1]:/srv", "root@[fe80::1%eth0]:/srv";
//   - "host::module" and "rsync://host/module" name an rsync daemon, which bkp does not use
//     (refused as a usage error).
#pragma once

#include <string>
#include <vector>

namespace bkp {

struct SourceSpec {
  std::string given;  // exactly as written: the journal records it so
  std::string user;   // remote only, may be empty ("user@" left out)
  std::string host;   // remote only: name or address, without brackets; empty for a local source
  std::string path;   // the directory: on the host for a remote source, without trailing slashes

  bool remote() const { return !host.empty(); }
  // "user@host", or "host": what ssh logs in to.
  std::string login() const;
  // The login as rsync writes it, with an IPv6 address in brackets: "root@[::1]".
  std::string rsync_login() const;
  // A remote source's path without "." or ".." components or trailing slashes.
  std::string normal_path() const;
  // The argument rsync gets to pull it: "[user@]host:path" with the normal path, or the path.
  std::string rsync_argument() const;
  // The folder it is stored in, DEST/0/<snapshot>/<name>: the last component of the path.
  std::string name() const;
};

// Parses one --sources argument; throws UsageError for an empty one or a daemon source.
SourceSpec parse_source(const std::string& given);

// Parses every source, then refuses (Failure, naming the source) one without a name to
// store it under ("/", "host:", "host:/") and two that would be stored under the same name.
// Local paths are made absolute first, so "." is named after the current directory.
std::vector<SourceSpec> parse_sources(const std::vector<std::string>& given);

}  // namespace bkp
