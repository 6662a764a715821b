#include "cli.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "errors.h"

namespace po = boost::program_options;

namespace bkp {

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
      po::store(po::parse_config_file(in, desc), vm);  // the command line wins: it was stored first
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "; see bkp " + (std::strcmp(argv[0], "bkp") == 0 ? "" : std::string(argv[0]) + " ") + "--help");
  }
  return vm;
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
