// The test helpers are themselves tested, including that each one fails when it should: a
// helper that can never fail would make every kata test that relies on it worthless.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "testkit/children.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

TEST(TimedBarrier, CompletesWhenAllPartiesArriveTogether) {
  testkit::TimedBarrier barrier(3, 5000ms);
  std::vector<std::thread> threads;
  std::atomic<int> released{0};
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&] { released += barrier.arrive_and_wait() ? 1 : 0; });
  for (auto& t : threads) t.join();
  EXPECT_EQ(released.load(), 3);
  EXPECT_TRUE(barrier.completed());
  EXPECT_FALSE(barrier.broken());
}

TEST(TimedBarrier, BreaksInsteadOfHangingWhenPartiesComeOneAfterAnother) {
  // What a sequential implementation does: each party arrives only after the previous left.
  testkit::TimedBarrier barrier(3, 100ms);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(barrier.arrive_and_wait());
  EXPECT_TRUE(barrier.broken());
  EXPECT_FALSE(barrier.completed());
  EXPECT_EQ(barrier.arrived(), 3u);
  // Only the first arrival waits out the deadline; the later ones see it broken at once.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "the barrier waited too long";
}

TEST(InflightProbe, CountsOverlapExactly) {
  testkit::InflightProbe probe;
  {
    auto a = probe.enter();
    auto b = probe.enter();
    EXPECT_EQ(probe.now(), 2);
  }
  auto c = probe.enter();
  EXPECT_EQ(probe.now(), 1);
  EXPECT_EQ(probe.max_in_flight(), 2);
  EXPECT_EQ(probe.entries(), 3);
}

TEST(InflightProbe, SeesOneAtATimeWhenWorkIsSerialized) {
  testkit::InflightProbe probe;
  std::mutex one_at_a_time;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) {
        std::lock_guard lock(one_at_a_time);
        auto in = probe.enter();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(probe.max_in_flight(), 1);
  EXPECT_EQ(probe.entries(), 400);
}

TEST(ThreadCount, SeesAThreadComeAndGo) {
  // Under ThreadSanitizer the first thread a process starts brings a helper thread of the
  // runtime along; start one first so that the count below sees only ours.
  std::thread([] {}).join();
  const int before = testkit::thread_count();
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) std::this_thread::sleep_for(1ms);
  });
  EXPECT_EQ(testkit::thread_count(), before + 1);
  EXPECT_FALSE(testkit::threads_back_to(before, 50ms)) << "a running thread must be counted";
  stop = true;
  worker.join();
  EXPECT_TRUE(testkit::threads_back_to(before));
}

TEST(Eventually, ReturnsAsSoonAsTheConditionHolds) {
  std::atomic<bool> flag{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(20ms);
    flag = true;
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(testkit::eventually([&] { return flag.load(); }, 60s));
  // Far below the deadline: eventually() waited for the event, not the clock.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  setter.join();
  int looks = 0;
  EXPECT_TRUE(testkit::eventually([&] { return ++looks > 0; }, 0ms));
  EXPECT_EQ(looks, 1) << "a condition that already holds is looked at once";
}

TEST(Eventually, GivesUpAfterTheDeadline) {
  int looks = 0;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(testkit::eventually(
      [&] {
        ++looks;
        return false;
      },
      50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
  EXPECT_GE(looks, 2) << "it looks again until the deadline, and once more at the end";
}

TEST(ToText, WritesAnyRangeInBrackets) {
  EXPECT_EQ(testkit::to_text(std::vector<int>{3, 8, 1}), "[3, 8, 1]");
  EXPECT_EQ(testkit::to_text(std::vector<int>{}), "[]");
  EXPECT_EQ(testkit::to_text(std::vector<std::string>{"a", "b"}), "[a, b]");
}

TEST(Children, NoChildrenPasses) { EXPECT_TRUE(testkit::no_leftover_children()); }

TEST(Children, AZombieIsReportedAndReaped) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_GT(pid, 0);
  // Give the child time to exit (and become a zombie) before looking.
  ASSERT_TRUE(testkit::eventually([] { return testkit::running_children().empty(); }, 5s));
  auto result = testkit::no_leftover_children();
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("zombie"), std::string::npos) << result.message();
  EXPECT_TRUE(testkit::no_leftover_children()) << "the check must clean up after itself";
}

TEST(Children, ARunningChildIsReportedAndKilled) {
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  auto result = testkit::no_leftover_children(50ms);
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("still running"), std::string::npos)
      << result.message();
  EXPECT_TRUE(testkit::no_leftover_children());
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Children, TheSanitizersSymbolizerIsNotTheTestsChild) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, "llvm-symbolizer");
    char byte = 1;
    (void)!write(ready[1], &byte, 1);
    pause();
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  close(ready[1]);
  EXPECT_TRUE(testkit::running_children().empty());
  EXPECT_TRUE(testkit::no_leftover_children(50ms)) << "the symbolizer is ThreadSanitizer's own";
  EXPECT_EQ(kill(pid, 0), 0) << "the check must leave the symbolizer running";
  kill(pid, SIGKILL);
  EXPECT_EQ(waitpid(pid, nullptr, 0), pid);
}

TEST(FinishesWithin, ReturnsTheValueAndPassesExceptionsOn) {
  EXPECT_EQ(testkit::finishes_within(5000ms, "adding", [] { return 2 + 2; }), 4);
  EXPECT_THROW(
      testkit::finishes_within(5000ms, "throwing", []() -> int { throw std::logic_error("x"); }),
      std::logic_error);
}

TEST(FinishesWithinDeathTest, EndsTheProcessWithATimeoutMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(testkit::finishes_within(100ms, "waiting for Godot",
                                       [] { std::this_thread::sleep_for(10s); }),
              ::testing::ExitedWithCode(124), "TIMEOUT: waiting for Godot did not finish");
}

// LeakCheckedTest must fail a test that leaves a thread running. We check its verdict by
// running its TearDown logic by hand on a fixture object.
class LeakCheck : public testkit::LeakCheckedTest {
 public:
  using LeakCheckedTest::SetUp;
  using LeakCheckedTest::TearDown;
  void TestBody() override {}
};

TEST(LeakCheckedTest, FailsWhenAThreadOutlivesTheTest) {
  std::atomic<bool> stop{false};
  std::thread leaked;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    LeakCheck check;
    check.SetUp();
    leaked = std::thread([&] {
      while (!stop) std::this_thread::sleep_for(1ms);
    });
    check.TearDown();
  }
  stop = true;
  leaked.join();
  ASSERT_EQ(failures.size(), 1);
  EXPECT_NE(std::string(failures.GetTestPartResult(0).message()).find("still running"),
            std::string::npos);
}

TEST(LeakCheckedTest, PassesWhenEveryThreadIsJoined) {
  // Run alone in a fresh process (as the grader does), this is where a runtime's own helper
  // thread, such as ThreadSanitizer's, would be mistaken for a leak.
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    LeakCheck check;
    check.SetUp();
    std::thread([] {}).join();
    check.TearDown();
  }
  EXPECT_EQ(failures.size(), 0) << (failures.size() > 0 ? failures.GetTestPartResult(0).message()
                                                        : "");
}

}  // namespace
