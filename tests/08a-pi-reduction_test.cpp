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
// milliseconds. So the second test's f counts, on each thread, the calls after which the other
// thread had made a call too (the threads ran side by side), and the test repeats the integral
// until a term is lost, or one run had kSideBySide such calls and lost nothing. Measured over
// 1,200 runs with a shared sum, idle and busy: every run with 1,000 such calls lost terms, and
// the runs that lost none had at most 4 (each a switch of threads on one core). Each thread is
// pinned to a core of its own meanwhile (SideBySide says why); on a busy machine other programs
// may still hold a core for a while, so the test repeats; its 8 s are only a failure bound. On a
// machine with one core the threads can only take turns, and the test cannot catch it there.
//
// integrate() runs on the test's own thread, not under testkit::finishes_within (a new thread per
// call): testkit/openmp_pool.hpp says why.
#include <gtest/gtest.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <functional>
#include <iomanip>
#include <mutex>
#include <numbers>
#include <thread>
#include <vector>

#include "pi_reduction.hpp"
#include "testkit/lockstep.hpp"
#include "testkit/openmp_pool.hpp"

namespace {

using namespace std::chrono_literals;

class PiReduction : public testkit::OpenMpLeakCheckedTest {};

// Counts the calls of f on each of the team's two threads, and how many of them came while
// both threads ran side by side: calls after which the other thread had made a call too. The
// first call on each thread waits for the other thread's first (at most 2 s), so that both start
// adding at the same moment. It waits awake, looking again and again: a thread asleep in a wait
// is woken, on a busy machine, on the core of the thread that woke it. And each thread is pinned
// to a core of its own until the object is destroyed: on a machine whose cores are all busy the
// scheduler has no reason to keep the two threads apart, and two threads that take turns on one
// core never run side by side (seen: 1,177 runs in 8 s, none with a call side by side).
class SideBySide {
 public:
  // Called by f, on whichever thread of the team runs it.
  void call() {
    const int me = omp_get_thread_num();
    if (me < 0 || me > 1) return;
    Calls& mine = calls_[static_cast<std::size_t>(me)];
    const Calls& other = calls_[static_cast<std::size_t>(1 - me)];
    const long made = mine.made.load(std::memory_order_relaxed);
    if (made == 0) {
      pin(mine, me);
      mine.made.store(1);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (other.made.load() == 0 && !apart_) {
        if (std::chrono::steady_clock::now() > give_up) apart_ = true;
        std::this_thread::yield();
      }
      mine.other_seen = other.made.load(std::memory_order_relaxed);
      return;
    }
    const long seen = other.made.load(std::memory_order_relaxed);
    if (seen != mine.other_seen) ++mine.side_by_side;
    mine.other_seen = seen;
    mine.made.store(made + 1, std::memory_order_relaxed);
  }

  // False if the calling thread may run on one core only: then two threads can only take turns.
  static bool possible() {
    cpu_set_t cpus;
    return sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) >= 2;
  }

  ~SideBySide() {
    for (Calls& calls : calls_) {
      if (calls.pinned) pthread_setaffinity_np(calls.thread, sizeof calls.cpus, &calls.cpus);
    }
  }

  // Read these after the parallel loop has ended.
  bool started_together() const { return !apart_; }
  long calls() const { return calls_[0].made + calls_[1].made; }
  long side_by_side() const { return calls_[0].side_by_side + calls_[1].side_by_side; }

 private:
  struct alignas(64) Calls {  // a cache line each: the threads write only their own
    std::atomic<long> made{0};
    long other_seen = 0;
    long side_by_side = 0;
    bool pinned = false;
    pthread_t thread{};
    cpu_set_t cpus{};  // where the thread could run before it was pinned
  };

  // Pins the calling thread to the me-th core it may run on, if it may run on more than one.
  static void pin(Calls& mine, int me) {
    if (pthread_getaffinity_np(pthread_self(), sizeof mine.cpus, &mine.cpus) != 0 ||
        CPU_COUNT(&mine.cpus) < 2) {
      return;
    }
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &mine.cpus) || seen++ != me) continue;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      mine.thread = pthread_self();
      mine.pinned = pthread_setaffinity_np(mine.thread, sizeof one, &one) == 0;
      return;
    }
  }

  std::array<Calls, 2> calls_;
  std::atomic<bool> apart_{false};
};

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
  const bool two_cores = SideBySide::possible();
  const auto give_up = std::chrono::steady_clock::now() + 8s;
  for (int run = 1;; ++run) {
    SideBySide threads;
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
