#include <gtest/gtest.h>

#include "job_schedule.h"

using namespace bkp;

TEST(JobSchedule, AtMostParallelAtOnceInTheOrderGiven) {
  JobSchedule s({"/a", "/b", "/c", "/d"}, 2);
  EXPECT_EQ(s.start_next(), 0u);
  EXPECT_EQ(s.start_next(), 1u);
  EXPECT_EQ(s.start_next(), std::nullopt);  // two run
  EXPECT_EQ(s.running(), 2u);
  s.finished(1);
  EXPECT_EQ(s.start_next(), 2u);
  EXPECT_EQ(s.start_next(), std::nullopt);
  s.finished(0);
  s.finished(2);
  EXPECT_FALSE(s.done());
  EXPECT_EQ(s.start_next(), 3u);
  EXPECT_FALSE(s.done());
  s.finished(3);
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.not_started().empty());
}

TEST(JobSchedule, MoreSlotsThanJobsStartsThemAll) {
  JobSchedule s({"/a", "/b", "/c"}, 8);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(s.start_next(), i);
  EXPECT_EQ(s.start_next(), std::nullopt);
  EXPECT_EQ(s.running(), 3u);
}

TEST(JobSchedule, OneAtATimeAndNoJobsAtAll) {
  JobSchedule one({"/a", "/b"}, 1);
  EXPECT_EQ(one.start_next(), 0u);
  EXPECT_EQ(one.start_next(), std::nullopt);
  JobSchedule zero({"/a", "/b"}, 0);  // taken as 1
  EXPECT_EQ(zero.start_next(), 0u);
  EXPECT_EQ(zero.start_next(), std::nullopt);
  EXPECT_TRUE(JobSchedule({}, 2).done());
}

TEST(JobSchedule, JobsOnOneDestinationTakeTurnsAndOthersGoAhead) {
  JobSchedule s({"/d", "/d", "/e"}, 2);
  EXPECT_EQ(s.start_next(), 0u);
  EXPECT_EQ(s.start_next(), 2u);  // job 1 waits for job 0's destination
  s.finished(2);
  EXPECT_EQ(s.start_next(), std::nullopt);
  s.finished(0);
  EXPECT_EQ(s.start_next(), 1u);
  s.finished(1);
  EXPECT_TRUE(s.done());
}

TEST(JobSchedule, StopLetsRunningJobsFinishAndStartsNoMore) {
  JobSchedule s({"/a", "/b", "/c"}, 1);
  EXPECT_EQ(s.start_next(), 0u);
  s.stop();
  EXPECT_FALSE(s.done());
  EXPECT_EQ(s.start_next(), std::nullopt);
  s.finished(0);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.not_started(), (std::vector<size_t>{1, 2}));
}
