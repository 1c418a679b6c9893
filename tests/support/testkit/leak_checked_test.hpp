// A GoogleTest fixture that fails a test which leaves threads or child processes behind, or
// during which the test program refused a call (see testkit/interposed.hpp).
//
// Why: "returns only after all the work finished" is part of most katas' contract. Deriving a
// kata's fixture from LeakCheckedTest checks it after every test, with a message that says
// what was left and why it matters, and keeps a leak in one test from muddling the next
// (important when the tests are repeated and shuffled in one process under ThreadSanitizer).
// A refused call (a signal to a reaped child, say) changes nothing the test can see in the
// results, so without this check the test would pass.
//
//   class SpawnAndJoin : public testkit::LeakCheckedTest {};
//   TEST_F(SpawnAndJoin, RunsEveryItem) { ... }
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "testkit/children.hpp"
#include "testkit/interposed.hpp"
#include "testkit/thread_count.hpp"

namespace testkit {

class LeakCheckedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // ThreadSanitizer starts a helper thread of its own when a process creates its first
    // thread. Start (and join) one here, so that helper is already counted in the baseline.
    std::thread([] {}).join();
    threads_at_start_ = thread_count();
    refusals_at_start_ = refused_call_count();
  }

  void TearDown() override {
    if (auto threads = threads_back_to(threads_at_start_); !threads)
      ADD_FAILURE() << "After the test: " << threads.message();
    if (auto children = no_leftover_children(); !children)
      ADD_FAILURE() << "After the test: " << children.message();
    if (const int refused = refused_call_count() - refusals_at_start_; refused > 0) {
      ADD_FAILURE() << "During the test, the test program refused "
                    << (refused == 1 ? "a call" : std::to_string(refused) + " calls; the first")
                    << ": " << refused_call(refusals_at_start_);
    }
  }

  int threads_at_start_ = 0;
  int refusals_at_start_ = 0;
};

}  // namespace testkit
