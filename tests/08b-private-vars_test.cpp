// Tests for kata 08b: count_inside() tests every point of the grid exactly once, on `threads`
// OpenMP threads that each have their own column index and point, counts the accepted points
// without losing one, and mandelbrot_area() comes out the same on two threads as on one.
//
// How the first test makes a shared index or point fail on every run: its inside(c) takes c by
// reference, as count_inside() passes it, on a grid of two rows (one per thread). It holds the
// two threads in lockstep (testkit::Lockstep) and reads the point only then: a c that both
// threads share holds, in every round, the point that the last of them wrote. And the threads
// leave each round one at a time, so a column index that they share is moved on by each of them
// in turn: each thread skips every other column. Either way some point is tested twice or never.
//
// A count that the threads share (no reduction) is read and written by `++count` after inside()
// has returned, a few instructions apart: no test can hold a thread between them. They collide
// only while the two threads run side by side on two cores, and then thousands of times in a
// few milliseconds. So the second test's inside() counts, on each thread, the calls after which
// the other thread had made a call too (the threads ran side by side), and the test repeats the
// count until one is lost, or one run had kSideBySide such calls and lost nothing (as in kata
// 08a's test, where 1,200 runs were measured: every run with 1,000 such calls lost some, the
// runs that lost none had at most 4). Each thread is pinned to a core of its own meanwhile
// (testkit/side_by_side.hpp says why); the test's 8 s are only a failure bound.
//
// count_inside() runs on the test's own thread, not under testkit::finishes_within (a new thread
// per call): testkit/openmp_pool.hpp says why.
#include <gtest/gtest.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <complex>
#include <cstddef>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>

#include "mandelbrot.hpp"
#include "testkit/lockstep.hpp"
#include "testkit/openmp_pool.hpp"
#include "testkit/side_by_side.hpp"

namespace {

using namespace std::chrono_literals;

class PrivateVars : public testkit::OpenMpLeakCheckedTest {};

// Counts, for every (column, row) of a grid of unit cells from 0, how often it was tested.
class Tested {
 public:
  void add(const std::complex<double>& point) {
    const std::pair<int, int> cell{static_cast<int>(std::floor(point.real())),
                                   static_cast<int>(std::floor(point.imag()))};
    std::lock_guard lock(mutex_);
    ++times_[cell];
  }

  // Empty if every cell of columns × rows was tested exactly once; else what was not, in words.
  std::string problems(int columns, int rows) const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    int twice = 0;
    int never = 0;
    std::string first;
    for (int row = 0; row < rows; ++row) {
      for (int column = 0; column < columns; ++column) {
        const auto found = times_.find({column, row});
        const int times = found == times_.end() ? 0 : found->second;
        if (times == 1) continue;
        (times == 0 ? never : twice) += 1;
        if (first.empty()) {
          first = "the point of column " + std::to_string(column) + ", row " + std::to_string(row) +
                  " was tested " + std::to_string(times) + " times";
        }
      }
    }
    if (twice + never == 0 && times_.size() == static_cast<std::size_t>(columns * rows)) return "";
    out << twice << " point(s) were tested more than once and " << never << " never (" << first
        << ")";
    return out.str();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<int, int>, int> times_;
};

TEST_F(PrivateVars, EveryPointIsTestedOnceWhileBothThreadsTestAtOnce) {
  static constexpr int kColumns = 16;
  static constexpr int kRows = 2;
  static constexpr int kRounds = 4;
  // Unit cells: the point of column i, row j is (i + 0.5, j + 0.5).
  const kata::Grid grid{0.0, kColumns, 0.0, kRows, kColumns, kRows};
  testkit::Lockstep lockstep(2, kRounds, 2s);
  Tested tested;
  const long count = kata::count_inside(
      grid,
      [&](const std::complex<double>& c) {
        lockstep.arrive();
        tested.add(c);  // read only now, while the other thread is inside too
        return c.real() < kColumns / 2;
      },
      2);
  ASSERT_EQ(lockstep.threads_seen(), 2u)
      << "inside() was called on " << lockstep.threads_seen()
      << " thread(s) with threads = 2: is num_threads(threads) still on the parallel loop?";
  const std::string problems = tested.problems(kColumns, kRows);
  EXPECT_EQ(problems, "")
      << "the test held both threads inside inside(c) at the same moment " << lockstep.full_rounds()
      << " times, and " << problems
      << ". Does each thread have its own column index and its own point c, or do they share "
         "the ones declared before the parallel loop?";
  EXPECT_TRUE(lockstep.completed())
      << "the two threads were inside inside(c) at the same moment only " << lockstep.full_rounds()
      << " times in " << kRounds
      << " tries: the points were tested one at a time. Is the call of inside() in a critical "
         "section or a lock? Then the threads take turns, and nothing runs in parallel";
  if (problems.empty()) {
    EXPECT_EQ(count, kColumns / 2 * kRows)
        << "inside() accepted the left half of the grid, " << kColumns / 2 * kRows
        << " points, but count_inside() returned " << count;
  }
}

TEST_F(PrivateVars, NoPointIsLostFromTheCountWhileBothThreadsCountSideBySide) {
  static constexpr int kColumns = 256;
  static constexpr int kRows = 256;
  static constexpr long kPoints = long{kColumns} * kRows;
  static constexpr long kSideBySide = 1000;
  const kata::Grid grid{0.0, kColumns, 0.0, kRows, kColumns, kRows};
  const bool two_cores = testkit::SideBySide::possible();
  const auto give_up = std::chrono::steady_clock::now() + 8s;
  for (int run = 1;; ++run) {
    testkit::SideBySide threads;
    const long count = kata::count_inside(
        grid,
        [&](const std::complex<double>&) {
          threads.call();
          return true;
        },
        2);
    ASSERT_TRUE(threads.started_together())
        << "the first call of inside() on one thread waited 2 s for the other thread's first "
           "call: the points were tested one at a time. Is the call of inside() in a critical "
           "section or a lock?";
    ASSERT_EQ(threads.calls(), kPoints)
        << "inside() was called " << threads.calls() << " times for the " << kPoints
        << " points of a grid of " << kColumns << " columns and " << kRows
        << " rows: does each thread have its own column index and point?";
    ASSERT_EQ(count, kPoints)
        << "inside() accepted every one of the " << kPoints << " points, but count_inside() "
        << "returned " << count << " (run " << run << "; in " << threads.side_by_side()
        << " calls of inside() the two threads ran side by side). Do the threads add to one "
           "shared count (`++count` with no reduction): a read and a write that the other "
           "thread's write can fall between?";
    // A shared count loses some in every run with this many calls side by side.
    // On one core no test can catch it: the threads only take turns there.
    if (threads.side_by_side() >= kSideBySide || !two_cores) return;
    ASSERT_LT(std::chrono::steady_clock::now(), give_up)
        << "in " << run << " runs over 8 s the two threads never ran side by side for "
        << kSideBySide << " calls of inside() (at most " << threads.side_by_side()
        << " in the last run), so this test could not tell whether counts get lost. Is the "
           "machine very busy? Or does something make the threads take turns?";
  }
}

TEST_F(PrivateVars, TheAreaIsTheSameOnTwoThreadsAsOnOne) {
  static constexpr int kN = 160;
  static constexpr int kIterations = 100;
  const double one = kata::mandelbrot_area(kN, kIterations, 1);
  const double two = kata::mandelbrot_area(kN, kIterations, 2);
  EXPECT_NEAR(one, 1.5066, 0.05) << "on one thread the estimate of the Mandelbrot set's area "
                                    "should be near 1.5066 (it is "
                                 << one << ")";
  EXPECT_EQ(two, one)
      << "on two threads the area came out " << two << ", on one thread " << one
      << ": the same points must be counted whatever the number of threads. "
         "Did a thread test a point or a column that another thread had set, or do the threads "
         "add to one shared count?";
}

TEST_F(PrivateVars, EveryPointOfAnUnevenGridIsTestedOnce) {
  static constexpr int kColumns = 7;
  static constexpr int kRows = 5;
  const kata::Grid grid{0.0, kColumns, 0.0, kRows, kColumns, kRows};
  Tested tested;
  const long count = kata::count_inside(
      grid,
      [&](const std::complex<double>& c) {
        tested.add(c);
        return true;
      },
      2);
  const std::string problems = tested.problems(kColumns, kRows);
  EXPECT_EQ(problems, "") << "on a grid of " << kColumns << " columns and " << kRows << " rows, "
                          << problems << ": does each thread have its own column index and point?";
  EXPECT_EQ(count, kColumns * kRows)
      << "inside() accepted every point, but count_inside() returned " << count;
}

}  // namespace
