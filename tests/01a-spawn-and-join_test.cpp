// Tests for kata 01a: run_in_threads(items, work) starts one thread per item, runs them all at
// the same time, and returns only after every call has finished.
//
// State the work touches lives in a shared_ptr that the work lambda owns a copy of: if a
// learner's version lets threads outlive the call (detach), they still touch valid memory and
// the test can report the mistake instead of crashing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "spawn_and_join.hpp"
#include "testkit/deadline.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/timed_barrier.hpp"

using namespace std::chrono_literals;

namespace {

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
  for (int item : items) {
    const int calls = seen->calls.count(item) != 0 ? seen->calls.at(item) : 0;
    EXPECT_EQ(calls, 1) << "work(" << item << ") ran " << calls
                        << " time(s); every item must be processed exactly once. If an item is "
                           "missing and another repeats, the threads did not each get their own "
                           "copy of the item: pass it by value, do not capture the loop "
                           "variable by reference.";
  }
  for (const auto& [item, calls] : seen->calls) {
    bool known = false;
    for (int expected : items) known = known || expected == item;
    EXPECT_TRUE(known) << "work() was called with " << item << " (" << calls
                       << " time(s)), which is not in the list: a thread read a variable that "
                          "had changed or no longer existed. Give each thread its own copy of "
                          "its item.";
  }
}

TEST_F(SpawnAndJoin, AllCallsRunAtTheSameTime) {
  constexpr int kCalls = 6;
  struct Shared {
    testkit::TimedBarrier barrier{kCalls, 2s};
    testkit::InflightProbe probe;
  };
  auto shared = std::make_shared<Shared>();

  testkit::finishes_within(6s, "run_in_threads with 6 calls that wait for each other", [&] {
    kata::run_in_threads(make_items(kCalls), [shared](int) {
      auto in = shared->probe.enter();
      // Returns once all 6 calls are here, or breaks after 2 s if they never are together.
      shared->barrier.arrive_and_wait();
    });
  });

  EXPECT_TRUE(shared->barrier.completed())
      << "each call waits (up to 2 s) until all " << kCalls
      << " calls are running, but at most " << shared->probe.max_in_flight() << " of "
      << kCalls
      << " ever ran at the same time. Did you join each thread right after starting it? "
         "join() waits for that thread to finish, so the next one starts only afterwards. "
         "Start every thread first, then join them all.";
  EXPECT_EQ(shared->probe.entries(), kCalls)
      << "work() should have been called once per item";
}

TEST_F(SpawnAndJoin, ReturnsOnlyAfterEveryCallHasFinished) {
  constexpr int kCalls = 4;
  // Each call announces that it started, waits at a gate, then counts itself finished.
  // A helper opens the gate once every call has started (or after 2 s) and after giving a
  // too-early return 300 ms to show itself. A correct run_in_threads cannot return while the
  // gate is shut, so a return before it opens is always a bug.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    int started = 0;
    bool gate_open = false;
    bool returned = false;
    std::atomic<int> finished{0};
  };
  auto shared = std::make_shared<Shared>();

  std::thread gatekeeper([shared] {
    std::unique_lock lock(shared->mutex);
    shared->changed.wait_for(lock, 2s, [&] { return shared->started == kCalls; });
    shared->changed.wait_for(lock, 300ms, [&] { return shared->returned; });
    shared->gate_open = true;
    shared->changed.notify_all();
  });

  int finished_at_return = -1;
  testkit::finishes_within(6s, "run_in_threads with 4 calls that wait at a gate", [&] {
    kata::run_in_threads(make_items(kCalls), [shared](int) {
      std::unique_lock lock(shared->mutex);
      ++shared->started;
      shared->changed.notify_all();
      shared->changed.wait(lock, [&] { return shared->gate_open; });
      lock.unlock();
      std::this_thread::sleep_for(10ms);  // a little work after the gate
      shared->finished.fetch_add(1);
    });
    finished_at_return = shared->finished.load();
    std::lock_guard lock(shared->mutex);
    shared->returned = true;
    shared->changed.notify_all();
  });
  gatekeeper.join();

  EXPECT_EQ(finished_at_return, kCalls)
      << "run_in_threads returned when only " << finished_at_return << " of " << kCalls
      << " calls had finished. A function that starts threads must join every one of them "
         "before it returns: a detached thread goes on running after the caller thinks the "
         "work is done.";
}

TEST_F(SpawnAndJoin, AnEmptyListStartsNothing) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  testkit::finishes_within(5s, "run_in_threads with no items", [&] {
    kata::run_in_threads({}, [calls](int) { calls->fetch_add(1); });
  });
  EXPECT_EQ(calls->load(), 0) << "work() was called although the list of items was empty";
}

}  // namespace
