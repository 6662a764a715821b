#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "lock.h"

using namespace bkp;

namespace {
std::filesystem::path fresh_dir(const char* tag) {
  const auto dir = std::filesystem::temp_directory_path() / ("bkp-lock-" + std::string(tag) + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}
}  // namespace

TEST(Lock, ASecondLockInTheSameProcessIsRefusedAndKeepsTheFirst) {
  const auto dir = fresh_dir("same");
  {
    DestinationLock held(dir);
    EXPECT_THROW(DestinationLock second(dir), LockBusy);
    // The refusal did not release the first lock: another process is still refused.
    const pid_t child = fork();
    if (child == 0) {
      try {
        DestinationLock other(dir);
        _exit(1);
      } catch (const LockBusy& busy) {
        _exit(busy.holder() == getppid() ? 0 : 2);
      }
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_NO_THROW(DestinationLock again(dir));
  std::filesystem::remove_all(dir);
}

TEST(Lock, TheLoserNamesTheLiveHolderEvenBeforeItWroteItsPid) {
  const auto dir = fresh_dir("holder");
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t holder = fork();
  if (holder == 0) {
    DestinationLock held(dir);
    truncate((dir / ".bkp.lock").c_str(), 0);  // as if the pid were not written yet
    char c = 1;
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  try {
    DestinationLock loser(dir);
    ADD_FAILURE() << "the lock was granted twice";
  } catch (const LockBusy& busy) {
    EXPECT_EQ(busy.holder(), holder);
    EXPECT_NE(std::string(busy.what()).find("pid " + std::to_string(holder)), std::string::npos) << busy.what();
  }
  (void)!write(done[1], &c, 1);
  waitpid(holder, nullptr, 0);
  EXPECT_NO_THROW(DestinationLock again(dir));
  std::filesystem::remove_all(dir);
}
