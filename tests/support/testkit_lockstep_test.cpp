// Tests of testkit/lockstep.hpp: in every round each thread's read before arrive() and write
// after it straddle the other thread's, the threads leave a round one at a time in the order they
// first came, and it gives up (broken) instead of hanging when the calls never come together.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/lockstep.hpp"

namespace {

using namespace std::chrono_literals;

// Runs body(k) on two threads at once (k = 0, 1) and joins them.
template <typename Body>
void on_two_threads(Body body) {
  std::thread first([&] { body(0); });
  std::thread second([&] { body(1); });
  first.join();
  second.join();
}

TEST(Lockstep, EveryRoundLosesAnUpdateMadeAroundTheCall) {
  constexpr int kRounds = 20;
  testkit::Lockstep lockstep(2, kRounds, 5s);
  // Read, call, write: the shape of `sum = sum + f(x)`, with atomics so that ThreadSanitizer
  // sees no race in the test itself; the lost update is the lockstep's doing.
  std::atomic<int> sum{0};
  on_two_threads([&](int) {
    for (int i = 0; i < kRounds; ++i) {
      const int read = sum.load();
      lockstep.arrive();
      sum.store(read + 1);
    }
  });
  EXPECT_EQ(sum.load(), kRounds) << "in each round both threads read before either wrote, so "
                                    "exactly one of the two additions is lost per round";
  EXPECT_TRUE(lockstep.completed());
  EXPECT_FALSE(lockstep.broken());
  EXPECT_EQ(lockstep.full_rounds(), kRounds);
  EXPECT_EQ(lockstep.threads_seen(), 2u);
  EXPECT_EQ(lockstep.calls(), 2 * kRounds);
}

TEST(Lockstep, ThreadsLeaveARoundOneAtATimeInTheOrderTheyCame) {
  constexpr int kRounds = 6;
  testkit::Lockstep lockstep(2, kRounds, 5s);
  std::mutex mutex;
  std::vector<std::thread::id> left;  // who left each call, in order
  std::atomic<int> incremented{0};    // a shared index, incremented after each call
  on_two_threads([&](int) {
    for (int i = 0; i < kRounds; ++i) {
      lockstep.arrive();
      {
        std::lock_guard lock(mutex);
        left.push_back(std::this_thread::get_id());
      }
      // Load and store, not fetch_add: two threads leaving at once could merge them. (They do
      // leave the last round together.)
      if (i + 1 < kRounds) incremented.store(incremented.load() + 1);
    }
  });
  ASSERT_EQ(left.size(), 2u * kRounds);
  // The first to leave round 1 came first; it leaves every round but the last one first.
  for (int round = 0; round + 1 < kRounds; ++round) {
    EXPECT_EQ(left[2 * round], left[0]) << "round " << round + 1;
    EXPECT_NE(left[2 * round + 1], left[0]) << "round " << round + 1;
  }
  EXPECT_EQ(incremented.load(), 2 * (kRounds - 1))
      << "the threads left every round but the last one after the other: no merged writes";
}

TEST(Lockstep, LaterCallsReturnAtOnce) {
  testkit::Lockstep lockstep(2, 2, 5s);
  on_two_threads([&](int k) {
    lockstep.arrive();
    lockstep.arrive();
    if (k == 0) {
      // Calls after the last round must not wait: 100 of them with nobody else arriving.
      testkit::finishes_within(5s, "100 calls after the last round", [&] {
        for (int i = 0; i < 100; ++i) lockstep.arrive();
      });
    }
  });
  EXPECT_TRUE(lockstep.completed());
}

TEST(Lockstep, BreaksInsteadOfHangingWhenTheOtherThreadNeverComes) {
  testkit::Lockstep lockstep(2, 5, 100ms);
  // Only a wait that ran out of patience breaks it; the deadline names a call that never returns.
  testkit::finishes_within(5s, "five calls of a thread that is never joined", [&] {
    for (int i = 0; i < 5; ++i) lockstep.arrive();
  });
  EXPECT_TRUE(lockstep.broken())
      << "the first call must break the lockstep when its patience runs out";
  EXPECT_FALSE(lockstep.completed());
  EXPECT_EQ(lockstep.full_rounds(), 0);
}

TEST(Lockstep, CallsOneAtATimeBreakIt) {
  // A lock around the whole call: the second thread can never be inside while the first is.
  testkit::Lockstep lockstep(2, 3, 100ms);
  std::mutex serial;
  on_two_threads([&](int) {
    for (int i = 0; i < 3; ++i) {
      std::lock_guard lock(serial);
      lockstep.arrive();
    }
  });
  EXPECT_TRUE(lockstep.broken());
  EXPECT_FALSE(lockstep.completed());
  EXPECT_EQ(lockstep.calls(), 6);
}

TEST(Lockstep, ThreadsBeyondTheFirstNPassThroughAndAreCounted) {
  testkit::Lockstep lockstep(2, 3, 5s);
  // All three live until the end: a thread started after another was joined may get its id.
  std::atomic<bool> extra_done{false};
  std::thread extra([&] {
    testkit::eventually([&] { return lockstep.completed(); }, 5s);
    lockstep.arrive();
    // Had it waited for partners, its patience would have run out and broken the lockstep.
    EXPECT_FALSE(lockstep.broken()) << "a thread beyond the first two must pass through";
    extra_done = true;
  });
  on_two_threads([&](int) {
    for (int i = 0; i < 3; ++i) lockstep.arrive();
    testkit::eventually([&] { return extra_done.load(); }, 5s);
  });
  extra.join();
  EXPECT_TRUE(lockstep.completed());
  EXPECT_EQ(lockstep.threads_seen(), 3u);
}

}  // namespace
