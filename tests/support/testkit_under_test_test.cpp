// Tests of testkit/under_test.hpp: the object is built in place, destroyed once (at the end of
// the scope or when the test says), on a thread the test can watch, and a destructor that hangs
// ends the process with a TIMEOUT in the teardown's words or the test's own.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "testkit/thread_probe.hpp"
#include "testkit/under_test.hpp"

namespace {

using namespace std::chrono_literals;

// Counts its destructions and says which thread ran the last one. Neither copyable nor
// movable, as a pool is.
class Counted {
 public:
  Counted(std::atomic<int>& destroyed, std::atomic<pid_t>& destroyed_on, int value)
      : destroyed_(destroyed), destroyed_on_(destroyed_on), value_(value) {}
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() {
    destroyed_on_ = testkit::this_thread_tid();
    destroyed_.fetch_add(1);
  }
  int value() const { return value_; }

 private:
  std::atomic<int>& destroyed_;
  std::atomic<pid_t>& destroyed_on_;
  int value_;
};

// A destructor that never returns (until the process ends).
struct Stuck {
  ~Stuck() {
    std::promise<void> never;
    never.get_future().wait();  // nobody sets it
  }
};

const testkit::Teardown kTeardown{5s, "~Counted()", "Is it stuck?"};

TEST(UnderTest, BuildsTheObjectInPlaceAndDestroysItOnceOnAHelperThread) {
  std::atomic<int> destroyed{0};
  std::atomic<pid_t> destroyed_on{0};
  pid_t destroyer = 0;
  {
    testkit::UnderTest<Counted> counted(kTeardown, destroyed, destroyed_on, 42);
    EXPECT_EQ(counted->value(), 42);
    EXPECT_EQ((*counted).value(), 42);
    EXPECT_EQ(counted.destroyer(), 0) << "nothing was destroyed yet";
    EXPECT_EQ(destroyed.load(), 0);
    counted.destroy();
    destroyer = counted.destroyer();
    EXPECT_EQ(destroyed.load(), 1);
    counted.destroy("again");  // does nothing: it is gone
  }
  EXPECT_EQ(destroyed.load(), 1) << "the object was destroyed more than once";
  EXPECT_NE(destroyer, 0);
  EXPECT_EQ(destroyer, destroyed_on.load()) << "destroyer() is the thread that ran ~Counted()";
  EXPECT_NE(destroyer, testkit::this_thread_tid()) << "the destructor runs on a helper thread";
}

TEST(UnderTest, DestroysTheObjectAtTheEndOfTheScope) {
  std::atomic<int> destroyed{0};
  std::atomic<pid_t> destroyed_on{0};
  { testkit::UnderTest<Counted> counted(kTeardown, destroyed, destroyed_on, 1); }
  EXPECT_EQ(destroyed.load(), 1);
  EXPECT_NE(destroyed_on.load(), testkit::this_thread_tid());
}

TEST(UnderTest, ADerivedClassRunsItsOwnCleanUpFirst) {
  // What a kata test does to let held tasks go before the pool's destructor joins them.
  struct Released : testkit::UnderTest<Counted> {
    Released(std::atomic<int>& destroyed, std::atomic<pid_t>& on, std::atomic<int>& seen)
        : UnderTest(kTeardown, destroyed, on, 0), destroyed_(destroyed), seen_(seen) {}
    ~Released() { seen_ = destroyed_.load(); }
    std::atomic<int>& destroyed_;
    std::atomic<int>& seen_;
  };
  std::atomic<int> destroyed{0};
  std::atomic<pid_t> destroyed_on{0};
  std::atomic<int> destroyed_when_cleaning_up{-1};
  { Released released(destroyed, destroyed_on, destroyed_when_cleaning_up); }
  EXPECT_EQ(destroyed_when_cleaning_up.load(), 0);
  EXPECT_EQ(destroyed.load(), 1);
}

TEST(UnderTestDeathTest, AHangingDestructorIsATimeoutInTheTeardownsWords) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        testkit::UnderTest<Stuck> stuck(testkit::Teardown{100ms, "~Stuck()", "Who holds it?"});
      },
      ::testing::ExitedWithCode(124),
      "\\[testkit\\] TIMEOUT: ~Stuck\\(\\) did not finish within 0.1 s. Who holds it\\?");
}

TEST(UnderTestDeathTest, AHangingDestroyIsATimeoutInTheTestsWords) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        testkit::UnderTest<Stuck> stuck(testkit::Teardown{100ms, "~Stuck()", "Who holds it?"});
        stuck.destroy("~Stuck() with 3 tasks queued", "Is a worker asleep?");
      },
      ::testing::ExitedWithCode(124),
      "TIMEOUT: ~Stuck\\(\\) with 3 tasks queued did not finish within 0.1 s. Is a worker "
      "asleep\\?");
  EXPECT_EXIT(
      {
        testkit::UnderTest<Stuck> stuck(testkit::Teardown{100ms, "~Stuck()"});
        stuck.destroy("~Stuck() alone");
      },
      ::testing::ExitedWithCode(124),
      "TIMEOUT: ~Stuck\\(\\) alone did not finish within 0.1 s. Something is waiting");
}

}  // namespace
