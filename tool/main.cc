// bkp: snapshot backups with rsync. See bkp(1).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <system_error>

#include "backup.h"
#include "errors.h"
#include "list.h"
#include "lock.h"
#include "logging.h"
#include "options.h"
#include "timestamp.h"

int main(int argc, char* argv[]) {
  using namespace bkp;
  init_local_time();
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "bkp: error: %s\n", e.what());
    return kExitUsage;
  }
  switch (cl.command) {
    case CommandLine::Command::help: std::fputs(cl.help_text.c_str(), stdout); return kExitOk;
    case CommandLine::Command::version: std::printf("bkp %s\n", BKP_VERSION); return kExitOk;
    default: break;
  }
  try {
    if (cl.command == CommandLine::Command::list) {
      setup_logging(cl.list.log);
      return run_list(cl.list);
    }
    setup_logging(cl.backup.log);
    return run_backup(cl.backup);
  } catch (const Failure& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const LockBusy& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  } catch (const std::system_error& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}
