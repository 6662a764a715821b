// bkp's command line: the backup run (seed-compatible -s/-d/-i) and `bkp list`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bkp {

struct LogOptions {
  int verbosity = 0;  // -1 quiet, 0 normal, 1 verbose
  std::optional<std::filesystem::path> log_file;
};

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
  LogOptions log;
};

struct ListOptions {
  std::string destination;
  bool json = false;
  bool sizes = true;
  LogOptions log;
};

struct CommandLine {
  enum class Command { backup, list, help, version } command = Command::backup;
  BackupOptions backup;
  ListOptions list;
  std::string help_text;
};

// Throws UsageError for anything malformed; never touches the file system except to read
// a --config file.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace bkp
