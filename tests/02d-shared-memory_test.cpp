// Tests for kata 02d: a SharedCounter that a parent and the children it forks all see and
// change: every child's add() reaches the parent, none is lost when processes add at the same
// time, each counter is its own, and a destroyed counter gives its memory back.
//
// The children are the test's own (testkit::run_in_children: all at once, each dying with the
// test). Lost additions need processes that really add at the same time: the children wait at
// a testkit::ProcessLatch, and there are more of them than the machine has cores.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "shared_counter.hpp"
#include "testkit/cores.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<int()>>;

// What makes counting in shared memory hang (instead of miscount).
const char* const kHangHint =
    "A process is waiting for a wake-up that never comes. A std::mutex (or a pthread mutex "
    "with default attributes) placed in shared memory still keeps two processes out of each "
    "other's way, but its unlock wakes waiters only in the process that unlocks: a waiter in "
    "another process sleeps forever. Is there a lock in the shared memory that was not made "
    "to work between processes?";

// The test's children with a deadline: a hang becomes a TIMEOUT that says what hung.
std::vector<testkit::ChildStatus> run_in_children(const Bodies& bodies, const std::string& what,
                                                  std::chrono::milliseconds deadline = 5s) {
  return testkit::finishes_within(
      deadline, what, [&] { return testkit::run_in_children(bodies); }, kHangHint);
}

// Passes when every child exited with code 0.
testing::AssertionResult all_exited_with_0(const std::vector<testkit::ChildStatus>& children) {
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i].exited || children[i].exit_code != 0) {
      return testing::AssertionFailure()
             << "child " << i << " " << testkit::describe(children[i]) << ", not with code 0";
    }
  }
  return testing::AssertionSuccess();
}

// How many memory mappings this process has (one line each in /proc/self/maps).
int mapping_count() {
  std::ifstream maps("/proc/self/maps");
  int lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

class SharedMemory : public testkit::LeakCheckedTest {};

TEST_F(SharedMemory, StartsAtZeroAndCountsInTheParent) {
  kata::SharedCounter counter;
  EXPECT_EQ(counter.value(), 0) << "a new counter starts at 0";
  counter.add(3);
  counter.add(4);
  EXPECT_EQ(counter.value(), 7) << "add(3) then add(4) in the same process should give 7";
}

TEST_F(SharedMemory, TheParentSeesWhatAChildAdded) {
  kata::SharedCounter counter;
  const auto children = run_in_children({[&counter] {
                                          counter.add(5);
                                          return 0;
                                        }},
                                        "a child adding 5 to the counter");
  ASSERT_TRUE(all_exited_with_0(children)) << "the child that called add(5) did not end normally";
  EXPECT_EQ(counter.value(), 5)
      << "a child called add(5), but the parent sees " << counter.value()
      << ". fork() gave the child its own copy of the parent's memory, and it added to that "
         "copy. Where does the count live: in memory that fork() copies, or in memory it "
         "shares?";
}

TEST_F(SharedMemory, AChildSeesWhatTheParentAdded) {
  kata::SharedCounter counter;
  counter.add(3);
  const auto children = run_in_children({[&counter] {
                                          // The child reports the value it sees as its exit code.
                                          return static_cast<int>(counter.value());
                                        }},
                                        "a child reading the counter");
  ASSERT_EQ(children.size(), 1u);
  EXPECT_TRUE(children[0].exited && children[0].exit_code == 3)
      << "the parent added 3 before forking; the child should see 3, but it "
      << testkit::describe(children[0]);
}

TEST_F(SharedMemory, CountInProcessesIsExact) {
  constexpr int kProcesses = 4;
  constexpr long kIncrements = 100000;
  const long total = testkit::finishes_within(
      5s, "count_in_processes(4, 100000)",
      [] { return kata::count_in_processes(kProcesses, kIncrements); }, kHangHint);
  EXPECT_EQ(total, kProcesses * kIncrements)
      << kProcesses << " processes added 1 each " << kIncrements << " times, but the parent sees "
      << total
      << (total == 0 ? ". Did each child add to its own private copy of the counter?"
                     : ". Some additions were lost: did two processes read the same old value "
                       "and both write old + 1?");
}

TEST_F(SharedMemory, NoAdditionIsLostWhenProcessesAddTogether) {
  // More processes than cores, so that they add at the same time on any machine, and with
  // more than one core truly in parallel; they all start adding at the same moment.
  const int processes = std::min(testkit::more_calls_than_cores(4), 32);
  constexpr long kIncrements = 1000000;
  kata::SharedCounter counter;
  testkit::Shared<testkit::ProcessLatch> start(processes);
  const auto children =
      run_in_children(Bodies(processes,
                             [&] {
                               start->arrive_and_wait(2s);
                               for (long i = 0; i < kIncrements; ++i) {
                                 counter.add(1);
                                 // Keeps the compiler from merging the loop into one big add: every
                                 // add() really happens, one at a time, as it would in real work.
                                 asm volatile("" ::: "memory");
                               }
                               return 0;
                             }),
                      "children adding 1 to the counter a million times each", 8s);
  ASSERT_TRUE(all_exited_with_0(children)) << "a child did not end normally";
  const long expected = processes * kIncrements;
  const long total = counter.value();
  EXPECT_EQ(total, expected)
      << (total == 0
              ? "the parent sees 0: did each child add to its own private copy of the counter?"
              : "lost " + std::to_string(expected - total) + " of " + std::to_string(expected) +
                    " additions: `count += n` on a plain long is read, add, write. Can two "
                    "processes read the same old value and both write old + n?");
}

TEST_F(SharedMemory, EachCounterIsItsOwn) {
  kata::SharedCounter apples;
  kata::SharedCounter pears;
  apples.add(2);
  pears.add(10);
  EXPECT_EQ(apples.value(), 2) << "two counters must not share their count";
  EXPECT_EQ(pears.value(), 10) << "two counters must not share their count";
}

TEST_F(SharedMemory, DestroyingACounterReleasesItsMemory) {
  const int before = mapping_count();
  for (int i = 0; i < 200; ++i) {
    kata::SharedCounter counter;
    counter.add(1);
  }
  const int after = mapping_count();
  EXPECT_LT(after - before, 50)
      << "after creating and destroying 200 counters this process has " << (after - before)
      << " more memory mappings: does the destructor give back what the constructor mapped?";
}

}  // namespace
