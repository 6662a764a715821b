#include "logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace bkp {

void setup_logging(const LogOptions& options) {
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  // A job of `bkp run` names itself in every line: several jobs log at once.
  const std::string who = options.job.empty() ? "bkp" : "bkp[" + options.job + "]";
  console->set_pattern(who + ": %l: %v");
  console->set_level(options.verbosity > 0 ? spdlog::level::debug
                     : options.verbosity < 0 ? spdlog::level::warn
                                              : spdlog::level::info);
  std::vector<spdlog::sink_ptr> sinks{console};
  if (options.log_file) {
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_file->string());
    file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%P] " + (options.job.empty() ? std::string() : "[" + options.job + "] ") + "%l: %v");
    file->set_level(spdlog::level::debug);
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("bkp", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace bkp
