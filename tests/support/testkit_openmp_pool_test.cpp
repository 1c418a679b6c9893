// Tests of testkit/openmp_pool.hpp: the OpenMP runtime keeps a region's workers after it ends;
// once start_openmp_pool(2) has run, regions of up to two threads (with tasks or without) start
// no thread the leak check would count; and a thread left running is still seen.
//
// Each test runs in a child process: the runtime's workers, once started, live as long as their
// process, and in this one they would change what other testkit tests see (a SIGALRM meant for
// the one thread that does not block it could go to an OpenMP worker instead).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "testkit/openmp_pool.hpp"
#include "testkit/process.hpp"
#include "testkit/thread_count.hpp"

namespace {

using namespace std::chrono_literals;

// A region of `threads` threads in which one thread makes `tasks` tasks; returns how many threads
// the region really had.
int region(int threads, int tasks = 0) {
  std::atomic<int> members{0};
#pragma omp parallel num_threads(threads)
  {
    members.fetch_add(1);
#pragma omp single
    for (int i = 0; i < tasks; ++i) {
#pragma omp task
      members.fetch_add(0);
    }
  }
  return members.load();
}

// Runs body in a child process; its value is the child's exit code.
int exit_code_in_a_child(const std::function<int()>& body) {
  const testkit::ChildStatus child = testkit::run_in_children({body})[0];
  return child.exited ? child.exit_code : 128 + child.signal;
}

TEST(OpenMpPool, TheRuntimeKeepsARegionsWorkers) {
  EXPECT_EQ(exit_code_in_a_child([] {
              const int before = testkit::thread_count();
              if (region(2) != 2) return 2;
              return testkit::threads_back_to(before, 200ms) ? 1 : 0;
            }),
            0)
      << "without the pool started first, a region of two threads leaves one more thread";
}

TEST(OpenMpPool, AfterItRegionsOfUpToTwoThreadsStartNoThread) {
  EXPECT_EQ(exit_code_in_a_child([] {
              testkit::start_openmp_pool(testkit::kOpenMpTeam);
              const int before = testkit::thread_count();
              for (int i = 0; i < 20; ++i) {
                if (region(2) != 2 || region(2, 100) != 2 || region(1, 10) != 1) return 2;
              }
              return testkit::threads_back_to(before, 100ms) ? 0 : 1;
            }),
            0)
      << "exit code 1: a region started a thread that was still there afterwards";
}

TEST(OpenMpPool, AThreadLeftRunningIsStillSeen) {
  EXPECT_EQ(exit_code_in_a_child([] {
              testkit::start_openmp_pool(testkit::kOpenMpTeam);
              const int before = testkit::thread_count();
              region(2);
              std::atomic<bool> stop{false};
              std::thread left_running([&] {
                while (!stop) std::this_thread::sleep_for(1ms);
              });
              const bool seen = !testkit::threads_back_to(before, 50ms);
              stop = true;
              left_running.join();
              return seen ? 0 : 1;
            }),
            0)
      << "exit code 1: a thread left running went unnoticed";
}

}  // namespace
