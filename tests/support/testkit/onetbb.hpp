// A GoogleTest fixture for katas on oneTBB: LeakCheckedTest, with oneTBB's thread count pinned
// and its own worker threads ended before the leak check.
//
// Why pin: a test that proves "two pieces ran at the same time" must mean the same on 2 cores
// and on 64. While the fixture lives, a tbb::global_control allows oneTBB `threads` threads in
// all (the caller and threads - 1 workers), on every machine.
//
// Why end the workers: oneTBB starts its worker threads when work is first offered and keeps
// them, asleep, until the process ends, so LeakCheckedTest would report them after every test.
// Switching the check off would also hide a std::thread the kata itself left running. Instead
// the fixture holds a tbb::task_scheduler_handle from before the test (attached in its
// constructor, before SetUp counts the threads) and calls tbb::finalize on it in TearDown:
// oneTBB 2021's documented way to wait until every worker thread has ended (measured here on
// 2021.8: under 2 ms). The leak check then runs as for any kata. A finalize that cannot end the
// workers (a task_group or an arena still busy on a thread the test left running) fails the test
// with its own message.
//
//   class ParallelReduce : public testkit::OneTbbTest {};        // 2 threads
//   class ArenaAndContainers : public testkit::OneTbbTest {
//    protected:
//     ArenaAndContainers() : OneTbbTest(4) {}                    // 4 threads
//   };
#pragma once

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <new>

#include "testkit/leak_checked_test.hpp"

namespace testkit {

class OneTbbTest : public LeakCheckedTest {
 protected:
  explicit OneTbbTest(int threads = 2)
      : threads_(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)) {}

  void TearDown() override {
    if (!tbb::finalize(scheduler_, std::nothrow)) {
      ADD_FAILURE() << "After the test: oneTBB could not end its worker threads (tbb::finalize "
                       "failed): is a task_group, task_arena or parallel loop still running on a "
                       "thread that outlived the test?";
    }
    LeakCheckedTest::TearDown();
  }

 private:
  tbb::task_scheduler_handle scheduler_{tbb::attach{}};
  tbb::global_control threads_;
};

}  // namespace testkit
