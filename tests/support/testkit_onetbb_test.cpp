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
#include <string>
#include <thread>

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

TEST(OneTbbTest, EndsOneTbbsWorkersBeforeTheLeakCheck) {
  ::testing::TestPartResultArray failures;
  int threads_with_a_worker = 0;
  int threads_before = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    OneTbbCheck check;
    check.SetUp();
    threads_before = testkit::thread_count();
    ASSERT_TRUE(two_iterations_met());
    threads_with_a_worker = testkit::thread_count();
    check.TearDown();
  }
  EXPECT_GT(threads_with_a_worker, threads_before) << "oneTBB started no worker thread";
  EXPECT_EQ(failures.size(), 0) << (failures.size() > 0 ? failures.GetTestPartResult(0).message()
                                                        : "");
}

TEST(OneTbbTest, StillFailsWhenAThreadOfTheTestOutlivesIt) {
  std::atomic<bool> stop{false};
  std::thread leaked;
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    OneTbbCheck check;
    check.SetUp();
    ASSERT_TRUE(two_iterations_met());
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
