#include "hooks.h"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "errors.h"

extern char** environ;

namespace bkp {
namespace {

// bkp's own environment with `extra` set (replacing variables of the same name).
std::vector<std::string> environment_with(const HookEnvironment& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : extra) vars[key] = value;
  std::vector<std::string> out;
  for (const auto& [key, value] : vars) out.push_back(key + "=" + value);
  return out;
}

std::string quoted(const std::string& command) { return "\"" + command + "\""; }

}  // namespace

HookResult run_hook(const std::string& command, const HookEnvironment& env) {
  const std::vector<std::string> vars = environment_with(env);
  std::vector<char*> envp;
  for (const std::string& v : vars) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);  // keeps bkp's stdout for --json
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return {false, std::string("could not be started: ") + std::strerror(err)};
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {false, std::string("could not be waited for: ") + std::strerror(errno)};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
  if (WIFEXITED(status)) return {false, "exit status " + std::to_string(WEXITSTATUS(status))};
  return {false, "killed by signal " + std::to_string(WTERMSIG(status))};
}

void run_pre_exec(const std::string& command, const BackupReport& report) {
  if (command.empty()) return;
  spdlog::debug("running --pre-exec {}", quoted(command));
  const HookResult r = run_hook(command, {{"BKP_DESTINATION", report.destination}, {"BKP_JOB", report.job}});
  if (!r.ok)
    throw Failure("--pre-exec " + quoted(command) + " failed (" + r.failure +
                  "); the run is refused and nothing in the destination was changed");
}

HookEnvironment post_exec_environment(const BackupReport& report) {
  return {{"BKP_STATUS", report.status},
          {"BKP_EXIT_CODE", std::to_string(report.exit_code)},
          {"BKP_SNAPSHOT", report.snapshot},
          {"BKP_DESTINATION", report.destination},
          {"BKP_JOB", report.job},
          {"BKP_MESSAGE", report.message}};
}

void run_post_exec(const std::string& command, const BackupReport& report) {
  if (command.empty()) return;
  spdlog::debug("running --post-exec {}", quoted(command));
  const HookResult r = run_hook(command, post_exec_environment(report));
  if (!r.ok)
    spdlog::error("--post-exec {} failed ({}); the snapshot and the exit status are as the run left them",
                  quoted(command), r.failure);
}

}  // namespace bkp
