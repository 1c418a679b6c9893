// Tests of testkit/side_by_side.hpp: two threads of a team that call side by side are counted as
// such, every call is counted once, a thread whose partner never calls gives up waiting and says
// so, threads beyond the first two are ignored, and every thread's affinity is put back.
//
// Each test runs in a child process, as testkit_openmp_pool_test.cpp's do: OpenMP's workers live
// as long as their process and would change what other testkit tests see.
#include <gtest/gtest.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <functional>

#include "testkit/process.hpp"
#include "testkit/side_by_side.hpp"

namespace {

using namespace std::chrono_literals;

int exit_code_in_a_child(const std::function<int()>& body) {
  const testkit::ChildStatus child = testkit::run_in_children({body})[0];
  return child.exited ? child.exit_code : 128 + child.signal;
}

// How many cores the calling thread may run on.
int cores_allowed() {
  cpu_set_t cpus;
  if (pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus) != 0) return 0;
  return CPU_COUNT(&cpus);
}

// A region of 2 threads in which each calls `calls` times, with a little work between calls.
void call_on_two_threads(testkit::SideBySide& threads, long calls) {
#pragma omp parallel num_threads(2)
  {
    volatile double work = 0;
    for (long i = 0; i < calls; ++i) {
      threads.call();
      for (int k = 0; k < 50; ++k) work = work + k;
    }
  }
}

// The bodies of the tests below, each run in a child process; their value is its exit code.
// (A #pragma cannot stand inside a macro's arguments, so they are functions, not lambdas.)

// On a busy machine a run may find a core taken; the kata tests repeat, and so does this.
int two_threads_are_counted_side_by_side() {
  const auto give_up = std::chrono::steady_clock::now() + 8s;
  for (;;) {
    testkit::SideBySide threads;
    call_on_two_threads(threads, 20'000);
    if (!threads.started_together()) return 2;
    if (threads.calls() != 40'000) return 3;
    if (threads.side_by_side() >= 1000) return 0;
    if (std::chrono::steady_clock::now() > give_up) return 4;
  }
}

// Only thread 0 calls: its first call waits 2 s for thread 1's, then goes on.
int a_lone_thread_gives_up_waiting() {
  testkit::SideBySide threads;
  std::atomic<int> made{0};
#pragma omp parallel num_threads(2)
  if (omp_get_thread_num() == 0) {
    for (int i = 0; i < 100; ++i) {
      threads.call();
      made.fetch_add(1);
    }
  }
  if (made.load() != 100) return 2;
  if (threads.started_together()) return 3;
  return threads.calls() == 100 && threads.side_by_side() == 0 ? 0 : 4;
}

// A team may get fewer threads than asked for; only the first two's calls may count.
int a_third_thread_is_ignored() {
  testkit::SideBySide threads;
#pragma omp parallel num_threads(3)
  {
    for (int i = 0; i < 10; ++i) threads.call();
  }
  return threads.calls() <= 20 && threads.started_together() ? 0 : 1;
}

// The number of the team's threads that may run on fewer cores after a SideBySide than before.
int threads_left_pinned() {
  const int before = cores_allowed();
  {
    testkit::SideBySide threads;
    call_on_two_threads(threads, 100);
  }
  std::atomic<int> narrowed{0};
#pragma omp parallel num_threads(2)
  if (cores_allowed() != before) narrowed.fetch_add(1);
  return narrowed.load();
}

TEST(SideBySide, CountsEveryCallAndSeesTwoThreadsThatRunTogether) {
  if (!testkit::SideBySide::possible()) GTEST_SKIP() << "one core: threads can only take turns";
  EXPECT_EQ(exit_code_in_a_child(two_threads_are_counted_side_by_side), 0)
      << "exit code 2: the first calls did not meet; 3: calls were miscounted; 4: in 8 s no run "
         "of two threads counted 1,000 calls side by side";
}

TEST(SideBySide, AThreadWhosePartnerNeverCallsGivesUpAndSaysSo) {
  EXPECT_EQ(exit_code_in_a_child(a_lone_thread_gives_up_waiting), 0)
      << "exit code 3: started_together() after the partner never called; 4: wrong counts";
}

TEST(SideBySide, ThreadsBeyondTheFirstTwoAreNotCounted) {
  EXPECT_EQ(exit_code_in_a_child(a_third_thread_is_ignored), 0)
      << "a third thread's calls were counted, or the first two did not meet";
}

TEST(SideBySide, PutsEveryThreadsAffinityBack) {
  if (!testkit::SideBySide::possible()) GTEST_SKIP() << "one core: nothing is pinned";
  EXPECT_EQ(exit_code_in_a_child(threads_left_pinned), 0)
      << "exit code N: N threads of the team could still run on fewer cores than before";
}

}  // namespace
