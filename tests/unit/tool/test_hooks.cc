// --pre-exec/--post-exec: how a hook is run and what it is told.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "errors.h"
#include "hooks.h"

namespace fs = std::filesystem;
using namespace bkp;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path scratch(const char* name) {
  return fs::temp_directory_path() / ("bkp-hooks-" + std::to_string(getpid()) + "-" + name);
}

}  // namespace

TEST(Hooks, ExitStatusAndSignalAreTold) {
  EXPECT_TRUE(run_hook("true", {}).ok);
  EXPECT_EQ(run_hook("exit 7", {}).failure, "exit status 7");
  EXPECT_EQ(run_hook("kill -TERM $$", {}).failure, "killed by signal 15");
  EXPECT_EQ(run_hook("no-such-command-anywhere 2>/dev/null", {}).failure, "exit status 127");
}

TEST(Hooks, RunThroughTheShellWithTheVariablesAdded) {
  const fs::path out = scratch("env");
  ::setenv("BKP_STATUS", "stale value from outside", 1);
  const auto r = run_hook("echo \"$BKP_STATUS|$OTHER|$HOME\" > " + out.string(),
                          {{"BKP_STATUS", "complete"}, {"OTHER", "a b"}});
  ::unsetenv("BKP_STATUS");
  EXPECT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(slurp(out), "complete|a b|" + std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "\n");
  fs::remove(out);
}

TEST(Hooks, StdinIsDevNullAndStdoutGoesToStderr) {
  // A child with its own stdin (a pipe holding data), stdout and stderr (files) runs a hook
  // that echoes to both and copies its stdin.
  const fs::path out = scratch("stdout"), err = scratch("stderr");
  int input[2];
  ASSERT_EQ(::pipe(input), 0);
  ASSERT_EQ(::write(input[1], "stdin data\n", 11), 11);
  ::close(input[1]);
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(input[0], STDIN_FILENO);
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    _exit(run_hook("echo to stdout; echo to stderr >&2; cat", {}).ok ? 0 : 1);
  }
  ::close(input[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(slurp(out), "") << "the hook wrote to bkp's stdout";
  EXPECT_EQ(slurp(err), "to stdout\nto stderr\n") << "stdin was not /dev/null, or output went astray";
  fs::remove(out);
  fs::remove(err);
}

TEST(Hooks, AFailingPreExecIsARefusalNamingItsStatus) {
  BackupReport report;
  report.destination = "/mnt/backup";
  EXPECT_NO_THROW(run_pre_exec("", report));
  EXPECT_NO_THROW(run_pre_exec("test \"$BKP_DESTINATION\" = /mnt/backup", report));
  try {
    run_pre_exec("exit 32", report);
    FAIL() << "not refused";
  } catch (const Failure& e) {
    EXPECT_EQ(e.exit_code(), kExitFailure);
    EXPECT_EQ(std::string(e.what()),
              "--pre-exec \"exit 32\" failed (exit status 32); the run is refused and nothing in the destination was changed");
  }
}

TEST(Hooks, PostExecIsToldTheOutcome) {
  BackupReport r;
  r.destination = "/mnt/backup";
  r.job = "home";
  r.snapshot = "2026-11-24_02:00:00";
  r.status = "failed";
  r.exit_code = 1;
  r.message = "rsync failed with exit status 11";
  const HookEnvironment env = post_exec_environment(r);
  const std::map<std::string, std::string> got(env.begin(), env.end());
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"BKP_STATUS", "failed"},
                                                      {"BKP_EXIT_CODE", "1"},
                                                      {"BKP_SNAPSHOT", "2026-11-24_02:00:00"},
                                                      {"BKP_DESTINATION", "/mnt/backup"},
                                                      {"BKP_JOB", "home"},
                                                      {"BKP_MESSAGE", "rsync failed with exit status 11"}}));
  EXPECT_NO_THROW(run_post_exec("exit 1", r));  // logged, never thrown
}
