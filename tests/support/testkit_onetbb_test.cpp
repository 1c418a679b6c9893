// testkit::OneTbbTest: it pins oneTBB's thread count, ends oneTBB's workers before the leak
// check, and still fails a test that leaves a thread of its own running.
//
// Not in the ThreadSanitizer self-test: Debian's libtbb is not instrumented, and ThreadSanitizer
// reports races inside it that are not there.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "testkit/onetbb.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

// Runs the fixture's SetUp and TearDown by hand, as testkit_test.cpp does for LeakCheckedTest.
class OneTbbCheck : public testkit::OneTbbTest {
 public:
  explicit OneTbbCheck(int threads = 2) : OneTbbTest(threads) {}
  using OneTbbTest::SetUp;
  using OneTbbTest::TearDown;
  void TestBody() override {}
};

// Two iterations of a parallel loop wait for each other: oneTBB must have started a worker.
bool two_iterations_met() {
  testkit::TimedBarrier barrier(2, 5000ms);
  std::atomic<bool> met{true};
  tbb::parallel_for(
      0, 2, [&](int) { met = barrier.arrive_and_wait() && met; }, tbb::simple_partitioner{});
  return met;
}

// The failures a fixture reports for a test that runs `during` between its SetUp and TearDown.
std::vector<std::string> failures_with(const std::function<void()>& during) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    OneTbbCheck check;
    check.SetUp();
    during();
    check.TearDown();
  }
  std::vector<std::string> messages;
  for (int i = 0; i < failures.size(); ++i) {
    messages.emplace_back(failures.GetTestPartResult(i).message());
  }
  return messages;
}

TEST(OneTbbTest, EndsOneTbbsWorkersBeforeTheLeakCheck) {
  int threads_before = 0;
  int threads_with_a_worker = 0;
  bool met = false;
  const auto failures = failures_with([&] {
    threads_before = testkit::thread_count();
    met = two_iterations_met();
    threads_with_a_worker = testkit::thread_count();
  });
  ASSERT_TRUE(met) << "two iterations of a parallel_for on 2 threads never ran at the same time";
  EXPECT_GT(threads_with_a_worker, threads_before) << "oneTBB started no worker thread";
  EXPECT_TRUE(failures.empty()) << (failures.empty() ? "" : failures.front());
}

TEST(OneTbbTest, StillFailsWhenAThreadOfTheTestOutlivesIt) {
  std::atomic<bool> stop{false};
  std::thread left_running;
  const auto failures = failures_with([&] {
    two_iterations_met();
    left_running = std::thread([&] {
      while (!stop) std::this_thread::sleep_for(1ms);
    });
  });
  stop = true;
  left_running.join();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures.front().find("still running"), std::string::npos) << failures.front();
}

TEST(OneTbbTest, PinsTheThreadCountWhileItLives) {
  const auto before =
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  {
    OneTbbCheck check(3);
    EXPECT_EQ(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism), 3);
    check.SetUp();
    check.TearDown();
  }
  EXPECT_EQ(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism), before)
      << "the pin outlived the fixture";
}

}  // namespace
