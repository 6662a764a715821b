#include "logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace bkp {

void setup_logging(const LogOptions& options) {
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("bkp: %l: %v");
  console->set_level(options.verbosity > 0 ? spdlog::level::debug
                     : options.verbosity < 0 ? spdlog::level::warn
                                              : spdlog::level::info);
  std::vector<spdlog::sink_ptr> sinks{console};
  if (options.log_file) {
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_file->string());
    file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%P] %l: %v");
    file->set_level(spdlog::level::debug);
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>("bkp", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace bkp
