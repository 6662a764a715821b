// What every bkp command shares on its command line: the logging options, parsing with
// Boost.Program_options into a UsageError on any mistake, and the --help text. Each
// command is one file with one entry point, listed in main.cc's command table.
#pragma once

#include <boost/program_options.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bkp {

struct LogOptions {
  int verbosity = 0;  // -1 quiet, 0 normal, 1 verbose
  std::optional<std::filesystem::path> log_file;
  std::string job;    // set by `bkp run`: shown in every log line
};

// A command's entry point: argv[0] is the command's name ("list") or "bkp" for the backup run.
using CommandMain = int (*)(int argc, const char* const argv[]);

struct Command {
  const char* name;
  const char* summary;  // one line for bkp --help
  CommandMain main;
};

void add_log_options(boost::program_options::options_description& desc, LogOptions& log);

// Parses argv against `desc` (+ positional names); po errors become UsageError. With
// `config_option` set, a file named by that option is read too ("name = value" lines,
// the same names as the long options), the command line winning for single values.
boost::program_options::variables_map parse_args(int argc, const char* const argv[],
                                                 const boost::program_options::options_description& desc,
                                                 const boost::program_options::positional_options_description& positional = {},
                                                 const char* config_option = nullptr);

// parse_args for a command that also takes operands (snapshot names, ...) after its
// options: they are stored in `operands`, and do not show in --help.
boost::program_options::variables_map parse_args_with_operands(int argc, const char* const argv[],
                                                               const boost::program_options::options_description& desc,
                                                               std::vector<std::string>& operands);

// True (after printing usage + the option table to stdout) when --help was given.
bool print_help_if_asked(int argc, const char* const argv[], const boost::program_options::options_description& desc,
                         const std::string& usage);

}  // namespace bkp
