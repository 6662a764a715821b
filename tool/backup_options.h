// The options of a backup run (seed-compatible -s/-d/-i), from the command line or, with
// the same names, from a --config file or a job file of `bkp run`.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "cli.h"
#include "keep_options.h"

namespace bkp {

// Never asks for a password or a host key (a scheduled run has no one to answer), gives up
// on a host that does not answer within 30 s, and on a connection silent for 3 minutes.
inline constexpr const char* kDefaultRsh = "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=60";

struct BackupOptions {
  std::vector<std::string> sources;
  std::string destination;
  bool incremental = false;
  bool dry_run = false;
  bool checksum = false;
  bool allow_empty = false;
  bool discard_partial = false;
  bool reflink = true;                // share changed files' blocks where the filesystem can
  bool share_blocks_full = false;     // full runs too (--share-blocks-with-previous)
  std::vector<std::string> excludes;
  std::vector<std::string> exclude_from;
  bool json = false;                  // print the run's summary as JSON on stdout
  KeepOptions keep;                   // prune with these rules after a successful run
  std::string metrics_file;           // Prometheus textfile rewritten after every run (metrics.h)
  std::string pre_exec;               // shell commands around the run (hooks.h)
  std::string post_exec;
  std::string rsh = kDefaultRsh;      // remote sources: rsync --rsh
  LogOptions log;
};

// The option table of a backup run, bound to `options`.
boost::program_options::options_description backup_option_table(BackupOptions& options);

// Throws UsageError for anything malformed; never touches the file system except to read
// a --config file. argv[0] is the program name.
BackupOptions parse_backup_options(int argc, const char* const argv[]);

}  // namespace bkp
