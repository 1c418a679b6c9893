// Tests for kata 08a: integrate() adds up f at every midpoint on `threads` OpenMP threads at once
// and loses no term, so pi() is right to a billionth on two threads.
//
// A lost term needs one thread to write the shared sum between another thread's read of it and
// that thread's write. With `sum = sum + f(x)` each thread reads the sum, then calls f, then
// writes (the order of the two operands of + is the compiler's choice: clang reads the left one
// first; g++ 12 calls f first in a parallel loop). The first test's f holds the two threads in
// lockstep (testkit::Lockstep), so that in every round both are inside f, past their reads,
// before either writes. A shared sum then loses one term per round on every run; a private sum
// per thread (a reduction) loses none. The deadline of the lockstep is only a failure bound.
//
// With `sum += f(x)` (or g++'s order) f returns before the sum is read, and the read and the write
// are a few instructions apart: no test can hold a thread between them. They collide only while
// the two threads run side by side on two cores, and then thousands of times in a few
// milliseconds. So the second test's f counts, with testkit::SideBySide, the calls after which
// the other thread had made a call too (the threads ran side by side), and the test repeats the
// integral until a term is lost, or one run had kSideBySide such calls and lost nothing (over
// 1,200 runs with a shared sum, every run with 1,000 such calls lost terms: side_by_side.hpp has
// the figures and why each thread is pinned to a core meanwhile). On a busy machine other
// programs may still hold a core for a while, so the test repeats; its 8 s are only a failure
// bound. On a machine with one core the threads can only take turns, and the test cannot catch
// it there.
//
// integrate() runs on the test's own thread, not under testkit::finishes_within (a new thread per
// call): testkit/openmp_pool.hpp says why.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <functional>
#include <iomanip>
#include <mutex>
#include <numbers>
#include <vector>

#include "pi_reduction.hpp"
#include "testkit/lockstep.hpp"
#include "testkit/openmp_pool.hpp"
#include "testkit/side_by_side.hpp"

namespace {

using namespace std::chrono_literals;

class PiReduction : public testkit::OpenMpLeakCheckedTest {};

TEST_F(PiReduction, NoTermIsLostWhenBothThreadsAddAtOnce) {
  static constexpr long kSteps = 64;
  static constexpr int kRounds = 16;
  testkit::Lockstep lockstep(2, kRounds, 2s);
  // Every term is 1 and the width 1/64, so the sum of the terms is the result times 64, exactly.
  const double result = kata::integrate(
      [&](double) {
        lockstep.arrive();
        return 1.0;
      },
      kSteps, 2);
  ASSERT_EQ(lockstep.calls(), kSteps) << "f was called " << lockstep.calls() << " times for "
                                      << kSteps << " steps: it must be called once per step";
  ASSERT_EQ(lockstep.threads_seen(), 2u)
      << "f was called on " << lockstep.threads_seen()
      << " thread(s) with threads = 2: is num_threads(threads) still on the parallel loop?";
  const double counted = result * kSteps;
  EXPECT_EQ(counted, static_cast<double>(kSteps))
      << "f returned 1 at each of the " << kSteps << " steps, but the sum counts " << counted
      << " of them: " << kSteps - counted
      << " were lost. The test held both threads inside f at the same moment, "
      << lockstep.full_rounds()
      << " times. Does each thread read the one shared sum before it calls f and write it back "
         "after, over what the other thread added meanwhile? Or does each thread add into a "
         "private copy of sum (private, firstprivate) that is never added back into the sum "
         "that is returned?";
  EXPECT_TRUE(lockstep.completed())
      << "the two threads were inside f at the same moment only " << lockstep.full_rounds()
      << " times in " << kRounds
      << " tries: the calls of f ran one at a time. Is the call of f inside a critical section "
         "or a lock? Then the threads take turns, and nothing runs in parallel";
}

TEST_F(PiReduction, NoTermIsLostWhileBothThreadsAddSideBySide) {
  static constexpr long kSteps = 1 << 16;
  static constexpr long kSideBySide = 1000;
  const bool two_cores = testkit::SideBySide::possible();
  const auto give_up = std::chrono::steady_clock::now() + 8s;
  for (int run = 1;; ++run) {
    testkit::SideBySide threads;
    const double result = kata::integrate(
        [&](double) {
          threads.call();
          return 1.0;
        },
        kSteps, 2);
    ASSERT_TRUE(threads.started_together())
        << "the first call of f on one thread waited 2 s for the other thread's first call: the "
           "calls of f ran one at a time. Is the call of f inside a critical section or a lock?";
    ASSERT_EQ(threads.calls(), kSteps) << "f was called " << threads.calls() << " times for "
                                       << kSteps << " steps: it must be called once per step";
    const double counted = result * kSteps;
    ASSERT_EQ(counted, static_cast<double>(kSteps))
        << "f returned 1 at each of the " << kSteps << " steps, but the sum counts " << counted
        << " of them (run " << run << "; in " << threads.side_by_side()
        << " calls of f the two threads ran side by side). Do the threads add into one shared "
           "sum (`sum += f(x)` with no reduction): a read and a write that the other thread's "
           "write can fall between? Or does each thread add into a private copy of sum that is "
           "never added back?";
    // A shared sum loses terms in every run with this many calls side by side.
    // On one core no test can catch it: the threads only take turns there.
    if (threads.side_by_side() >= kSideBySide || !two_cores) return;
    ASSERT_LT(std::chrono::steady_clock::now(), give_up)
        << "in " << run << " runs over 8 s the two threads never ran side by side for "
        << kSideBySide << " calls of f (at most " << threads.side_by_side()
        << " in the last run), so this test could not tell whether terms get lost. Is the "
           "machine very busy? Or does something make the threads take turns?";
  }
}

TEST_F(PiReduction, PiIsRightToABillionthOnTwoThreads) {
  // The midpoint rule's error here is about 1 / (12 · steps²), under 1e-10; a lost term is at
  // least 2 / steps, over 6e-5.
  static constexpr long kSteps = 1 << 15;
  const double pi = kata::pi(kSteps, 2);
  EXPECT_NEAR(pi, std::numbers::pi, 1e-9)
      << std::setprecision(12) << "pi(" << kSteps << " steps, 2 threads) returned " << pi
      << ", off by " << std::setprecision(2) << std::abs(pi - std::numbers::pi)
      << " (the midpoint rule with that many steps is within 1e-10): terms were lost. Do the "
         "two threads add into one shared sum, or each into a private copy that is never added "
         "back?";
}

TEST_F(PiReduction, EveryMidpointIsAddedOnce) {
  static constexpr long kSteps = 1000;
  std::mutex mutex;
  std::vector<double> xs;
  const double result = kata::integrate(
      [&](double x) {
        std::lock_guard lock(mutex);
        xs.push_back(x);
        return 1.0;
      },
      kSteps, 2);
  ASSERT_EQ(xs.size(), static_cast<std::size_t>(kSteps))
      << "f was called " << xs.size() << " times for " << kSteps
      << " steps: does every step get exactly one call, on one of the threads?";
  std::sort(xs.begin(), xs.end());
  for (long i = 0; i < kSteps; ++i) {
    const double midpoint = (static_cast<double>(i) + 0.5) / kSteps;
    ASSERT_NEAR(xs[static_cast<std::size_t>(i)], midpoint, 1e-12)
        << "the " << i + 1 << "th smallest x that f was called with is not the midpoint of step "
        << i << ": each step's f must be called at its midpoint, once";
  }
  EXPECT_NEAR(result, 1.0, 1e-12)
      << "f is 1 everywhere, so its integral over [0, 1] is 1, but integrate() returned " << result
      << ": were terms lost, in one shared sum or in private copies never added back?";
}

}  // namespace
