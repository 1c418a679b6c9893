// Tests for kata 01a: run_in_threads(items, work) starts one new thread per item, runs them all
// at the same time, and returns only after every call has finished.
//
// How they prove it, without a stopwatch: "at the same time" by a barrier that more calls than
// the machine has cores must all reach together; "a new thread per call" by the kernel's thread
// ids (unique among live threads and not handed out again within a test, unlike
// std::thread::id); "returns only after every call has finished" by calls that cannot finish
// until run_in_threads waits to join their thread (testkit::waits_to_join reads that from /proc).
// State the work touches lives in a shared_ptr that the work lambda owns a copy of: if a
// learner's version lets threads outlive the call (detach), they still touch valid memory and
// the test can report the mistake instead of crashing.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "spawn_and_join.hpp"
#include "testkit/cores.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

class SpawnAndJoin : public testkit::LeakCheckedTest {};

// Distinct, easy to recognise values: 100, 107, 114, ...
std::vector<int> make_items(int count) {
  std::vector<int> items;
  for (int i = 0; i < count; ++i) items.push_back(100 + 7 * i);
  return items;
}

TEST_F(SpawnAndJoin, EveryItemIsProcessedExactlyOnce) {
  struct Seen {
    std::mutex mutex;
    std::map<int, int> calls;  // item -> how many times work(item) ran
  };
  auto seen = std::make_shared<Seen>();
  const std::vector<int> items = make_items(16);

  testkit::finishes_within(5s, "run_in_threads with 16 quick items", [&] {
    kata::run_in_threads(items, [seen](int item) {
      std::lock_guard lock(seen->mutex);
      ++seen->calls[item];
    });
  });

  std::lock_guard lock(seen->mutex);
  std::vector<int> missing, repeated, unknown;
  for (int item : items) {
    auto found = seen->calls.find(item);
    if (found == seen->calls.end())
      missing.push_back(item);
    else if (found->second > 1)
      repeated.push_back(item);
  }
  for (const auto& [item, calls] : seen->calls) {
    bool known = false;
    for (int expected : items) known = known || expected == item;
    if (!known) unknown.push_back(item);
  }

  // A repeated or made-up item means threads read a variable that had changed or died: the
  // evident cause is a lambda that captured the loop variable by reference. A missing item
  // alone has other causes (a loop that stops early, a call that had not run yet when the
  // function returned), so it gets its own message.
  if (!repeated.empty() || !unknown.empty()) {
    ADD_FAILURE() << "work() ran more than once for item(s) " << testkit::to_text(repeated)
                  << ", was called with item(s) " << testkit::to_text(unknown)
                  << " that are not in the list, and never ran for " << testkit::to_text(missing)
                  << ". The threads did not each get their own copy of their item: does a "
                     "lambda capture the loop variable by reference ([&]) and read it later, "
                     "after it has changed or died?";
  } else if (!missing.empty()) {
    ADD_FAILURE() << "work() never ran for " << missing.size() << " of " << items.size()
                  << " items: " << testkit::to_text(missing)
                  << ". Does the loop stop early, or does run_in_threads return before some "
                     "threads have run?";
  }
}

TEST_F(SpawnAndJoin, AllCallsRunAtTheSameTime) {
  // More calls than cores: one thread per core is not one thread per item.
  const int calls = testkit::more_calls_than_cores();
  struct Shared {
    explicit Shared(int calls) : barrier(calls, 2s) {}
    testkit::TimedBarrier barrier;
    testkit::InflightProbe probe;
  };
  auto shared = std::make_shared<Shared>(calls);

  testkit::finishes_within(6s, "run_in_threads with calls that wait for each other", [&] {
    kata::run_in_threads(make_items(calls), [shared](int) {
      auto in = shared->probe.enter();
      // Returns once all calls are here, or breaks after 2 s if they never are together.
      shared->barrier.arrive_and_wait();
    });
  });

  EXPECT_EQ(shared->probe.entries(), calls)
      << "work() was called " << shared->probe.entries() << " times for " << calls
      << " items: it must be called once per item";
  const int most = shared->probe.max_in_flight();
  if (most <= 1) {
    EXPECT_TRUE(shared->barrier.completed())
        << "each call waits (up to 2 s) until all " << calls << " calls are running, but at most "
        << most << " of " << calls
        << " ever ran at the same time: the calls took turns. Did you join each thread right "
           "after starting it? join() waits for that thread to finish. Or do the calls share a "
           "lock, or does a discarded std::async future wait at the end of each statement?";
  } else {
    EXPECT_TRUE(shared->barrier.completed())
        << "each call waits (up to 2 s) until all " << calls << " calls are running, but only "
        << most << " of " << calls
        << " ever ran at the same time (there are more calls than this machine has cores). "
           "Do you start fewer threads than items, or wait for some before starting the rest?";
  }
}

TEST_F(SpawnAndJoin, EachCallRunsOnANewThreadOfItsOwn) {
  // Kernel thread ids tell threads apart even when one ended before the next began (and no
  // barrier is needed to keep them alive): the kernel does not reuse an id within a test.
  const int calls = testkit::more_calls_than_cores();
  struct Shared {
    std::mutex mutex;
    std::map<int, pid_t> thread_of;  // item -> the kernel id of the thread work(item) ran on
  };
  auto shared = std::make_shared<Shared>();

  pid_t caller = 0;
  testkit::finishes_within(6s, "run_in_threads with quick calls", [&] {
    caller = testkit::this_thread_tid();
    kata::run_in_threads(make_items(calls), [shared](int item) {
      std::lock_guard lock(shared->mutex);
      shared->thread_of[item] = testkit::this_thread_tid();
    });
  });

  std::lock_guard lock(shared->mutex);
  std::map<pid_t, std::vector<int>> items_of;
  for (const auto& [item, tid] : shared->thread_of) {
    EXPECT_NE(tid, caller) << "work(" << item
                           << ") ran on the thread that called run_in_threads, not on a new "
                              "thread. Does some item (the last one?) run without a std::thread "
                              "of its own?";
    if (tid != caller) items_of[tid].push_back(item);
  }
  for (const auto& [tid, on_it] : items_of) {
    EXPECT_EQ(on_it.size(), 1u) << "the calls for items " << testkit::to_text(on_it)
                                << " all ran on one and the same thread: does one thread run "
                                   "several calls, one after another?";
  }
}

TEST_F(SpawnAndJoin, ReturnsOnlyAfterEveryCallHasFinished) {
  // Every call is held until the caller waits to join the thread it runs on (the caller is
  // then blocked in the kernel on that very thread), or until run_in_threads has returned. A
  // run_in_threads that joins every thread lets each call go as soon as its join begins, in
  // whatever order it joins. One that returns without joining a thread (it detached it, with
  // or without a sleep afterwards) returns while that call is still held: caught every time,
  // whatever it sleeps. Every call also checks whether its own thread was detached. A
  // run_in_threads that waits some other way than join gets its calls let go after 2 s.
  constexpr int kCalls = 4;
  struct Shared {
    std::atomic<pid_t> caller{0};
    std::atomic<bool> returned{false};
    std::atomic<int> started{0};
    std::atomic<int> finished{0};
    std::mutex mutex;
    std::vector<int> detached;  // items whose call ran on a detached thread
  };
  auto shared = std::make_shared<Shared>();

  int finished_at_return = -1;
  testkit::finishes_within(6s, "run_in_threads with 4 calls that end when joined", [&] {
    shared->caller.store(testkit::this_thread_tid());
    kata::run_in_threads(make_items(kCalls), [shared](int item) {
      shared->started.fetch_add(1);
      const pthread_t self = pthread_self();
      testkit::eventually(
          [&] {
            return shared->returned.load() || testkit::waits_to_join(shared->caller.load(), self);
          },
          2s);
      if (testkit::this_thread_is_detached()) {
        std::lock_guard lock(shared->mutex);
        shared->detached.push_back(item);
      }
      shared->finished.fetch_add(1);
    });
    finished_at_return = shared->finished.load();
    shared->returned.store(true);
  });

  if (shared->started.load() < kCalls) {
    ADD_FAILURE() << "work() was called only " << shared->started.load() << " times for " << kCalls
                  << " items: does the loop start a thread for every item?";
  } else {
    EXPECT_EQ(finished_at_return, kCalls)
        << "run_in_threads returned when only " << finished_at_return << " of " << kCalls
        << " calls had finished (each call here lasts until its thread is joined). Did it "
           "return without waiting for every thread it started? A thread nobody joins goes on "
           "running after the caller thinks the work is done, and a sleep only makes it likely "
           "that the work has finished.";
  }
  // The calls held until the return are let go now; each checks its thread before it ends.
  testkit::eventually([&] { return shared->finished.load() == shared->started.load(); }, 2s);
  std::lock_guard lock(shared->mutex);
  EXPECT_TRUE(shared->detached.empty())
      << "the calls for items " << testkit::to_text(shared->detached)
      << " ran on threads that had been detached. Nobody can wait for a detached thread: how "
         "would run_in_threads know that its work has finished?";
}

TEST_F(SpawnAndJoin, AnEmptyListStartsNothing) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  testkit::finishes_within(5s, "run_in_threads with no items", [&] {
    kata::run_in_threads({}, [calls](int) { calls->fetch_add(1); });
  });
  EXPECT_EQ(calls->load(), 0) << "work() was called although the list of items was empty";
}

}  // namespace
