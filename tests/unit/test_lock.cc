#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "lock.h"

using namespace bkp;

TEST(Lock, SecondHolderIsRefusedAndNamed) {
  const auto dir = std::filesystem::temp_directory_path() / ("bkp-lock-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    DestinationLock held(dir);
    // flock is per open file description, so a second open in this process conflicts too.
    try {
      DestinationLock second(dir);
      FAIL() << "second lock was granted";
    } catch (const LockBusy& busy) {
      EXPECT_EQ(busy.holder(), getpid());
      EXPECT_NE(std::string(busy.what()).find(std::to_string(getpid())), std::string::npos);
    }
  }
  EXPECT_NO_THROW(DestinationLock again(dir));
  std::filesystem::remove_all(dir);
}
