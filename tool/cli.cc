#include "cli.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "errors.h"

namespace po = boost::program_options;

namespace bkp {
namespace {

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// "name = value" lines with the long option names; whole lines starting with # or ; are
// comments. Unlike Boost's config parser, a # inside a value is kept (a hook such as
// `post-exec = echo "#1"`, an exclude such as `exclude = #*#`).
po::parsed_options parse_option_file(std::istream& in, const std::string& file, const po::options_description& desc) {
  po::parsed_options parsed(&desc);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string text = trimmed(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    const auto eq = text.find('=');
    const std::string where = file + " line " + std::to_string(number);
    if (eq == std::string::npos) throw UsageError(where + ": not a 'name = value' line");
    const std::string name = trimmed(text.substr(0, eq)), value = trimmed(text.substr(eq + 1));
    if (desc.find_nothrow(name, false) == nullptr) throw UsageError(where + ": unknown option '" + name + "'");
    parsed.options.emplace_back(name, std::vector<std::string>{value});
  }
  return parsed;
}

}  // namespace

void add_log_options(po::options_description& desc, LogOptions& log) {
  desc.add_options()
      ("verbose,v", po::bool_switch()->notifier([&](bool on) { if (on) log.verbosity = 1; }),
       "log more: the rsync command line and its statistics")
      ("quiet,q", po::bool_switch()->notifier([&](bool on) { if (on) log.verbosity = -1; }),
       "log only warnings and errors")
      ("log-file", po::value<std::string>()->notifier([&](const std::string& f) { log.log_file = f; }),
       "also append the log to FILE");
}

po::variables_map parse_args(int argc, const char* const argv[], const po::options_description& desc,
                             const po::positional_options_description& positional, const char* config_option) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).positional(positional).run(), vm);
    if (config_option != nullptr && vm.count(config_option)) {
      const std::string file = vm[config_option].as<std::string>();
      std::ifstream in(file);
      if (!in) throw UsageError("--" + std::string(config_option) + " " + file + ": cannot read the file");
      po::store(parse_option_file(in, file, desc), vm);  // the command line wins: it was stored first
    }
    po::notify(vm);
  } catch (const po::error& e) {
    // argv[0] is the program for the backup run, the command's name for the others.
    const std::string command = std::strchr(argv[0], '/') != nullptr || std::strcmp(argv[0], "bkp") == 0
                                    ? std::string()
                                    : std::string(argv[0]) + " ";
    throw UsageError(std::string(e.what()) + "; see bkp " + command + "--help");
  }
  return vm;
}

po::variables_map parse_args_with_operands(int argc, const char* const argv[], const po::options_description& desc,
                                           std::vector<std::string>& operands) {
  po::options_description hidden;
  hidden.add_options()("operands", po::value(&operands)->multitoken(), "");
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("operands", -1);
  return parse_args(argc, argv, all, positional);
}

bool print_help_if_asked(int argc, const char* const argv[], const po::options_description& desc,
                         const std::string& usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      std::ostringstream out;
      out << usage << "\n" << desc;
      std::fputs(out.str().c_str(), stdout);
      return true;
    }
  }
  return false;
}

}  // namespace bkp
