// Tests for kata 01a: run_in_threads(items, work) starts one new thread per item, runs them all
// at the same time, and returns only after every call has finished.
//
// State the work touches lives in a shared_ptr that the work lambda owns a copy of: if a
// learner's version lets threads outlive the call (detach), they still touch valid memory and
// the test can report the mistake instead of crashing.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
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

std::string to_text(const std::vector<int>& values) {
  std::ostringstream out;
  for (std::size_t i = 0; i < values.size(); ++i) out << (i == 0 ? "" : ", ") << values[i];
  return out.str();
}

// True if somebody called detach() on the std::thread that runs the caller. glibc records a
// thread's detach state, and pthread_getattr_np reports it; no std:: API can ask this.
bool this_thread_is_detached() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  int state = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&attr, &state);
  pthread_attr_destroy(&attr);
  return state == PTHREAD_CREATE_DETACHED;
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
    ADD_FAILURE() << "work() ran more than once for item(s) [" << to_text(repeated)
                  << "], was called with item(s) [" << to_text(unknown)
                  << "] that are not in the list, and never ran for [" << to_text(missing)
                  << "]. The threads did not each get their own copy of their item: a lambda "
                     "that captures the loop variable by reference ([&]) reads it later, "
                     "after it has changed or died. Pass the item by value: "
                     "std::thread(work, item), or capture [item].";
  } else if (!missing.empty()) {
    ADD_FAILURE() << "work() never ran for " << missing.size() << " of " << items.size()
                  << " items: [" << to_text(missing)
                  << "]. Start a thread for every item (does the loop stop early?), and join "
                     "each one before returning: a thread that was not joined may not have "
                     "run yet when run_in_threads returns.";
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

  EXPECT_EQ(shared->probe.entries(), kCalls)
      << "work() was called " << shared->probe.entries() << " times for " << kCalls
      << " items: it must be called once per item";
  const int most = shared->probe.max_in_flight();
  if (most <= 1) {
    EXPECT_TRUE(shared->barrier.completed())
        << "each call waits (up to 2 s) until all " << kCalls << " calls are running, but at most "
        << most << " of " << kCalls
        << " ever ran at the same time: the calls took turns. Did you join each thread right "
           "after starting it? join() waits for that thread to finish, so the next one starts "
           "only afterwards. Or do the calls share a lock, or is a discarded std::async "
           "future waiting at the end of each statement? Start every thread first, then join "
           "them all.";
  } else {
    EXPECT_TRUE(shared->barrier.completed())
        << "each call waits (up to 2 s) until all " << kCalls << " calls are running, but only "
        << most << " of " << kCalls
        << " ever ran at the same time. Start a thread for every item, all of them before you "
           "join any: do you start fewer threads than items, or wait for some before starting "
           "the rest?";
  }
}

TEST_F(SpawnAndJoin, EachCallRunsOnANewThreadOfItsOwn) {
  constexpr int kCalls = 6;
  // All calls wait at a barrier, so they are all alive at once: live threads never share an
  // id, so equal ids mean the same thread ran two calls.
  struct Shared {
    testkit::TimedBarrier barrier{kCalls, 2s};
    std::mutex mutex;
    std::map<int, std::thread::id> thread_of;  // item -> the thread work(item) ran on
  };
  auto shared = std::make_shared<Shared>();
  const std::vector<int> items = make_items(kCalls);

  std::thread::id caller;
  testkit::finishes_within(6s, "run_in_threads with 6 calls that wait for each other", [&] {
    caller = std::this_thread::get_id();
    kata::run_in_threads(items, [shared](int item) {
      {
        std::lock_guard lock(shared->mutex);
        shared->thread_of[item] = std::this_thread::get_id();
      }
      shared->barrier.arrive_and_wait();
    });
  });

  std::lock_guard lock(shared->mutex);
  for (const auto& [item, id] : shared->thread_of) {
    EXPECT_NE(id, caller) << "work(" << item
                          << ") ran on the thread that called run_in_threads, not on a new "
                             "thread. Every call gets its own std::thread, the last item too; "
                             "the caller only starts them and joins them.";
  }
  if (!shared->barrier.completed()) return;  // not together: AllCallsRunAtTheSameTime says why
  std::map<std::thread::id, std::vector<int>> items_of;
  for (const auto& [item, id] : shared->thread_of) items_of[id].push_back(item);
  for (const auto& [id, on_it] : items_of) {
    EXPECT_EQ(on_it.size(), 1u) << "the calls for items [" << to_text(on_it)
                                << "] all ran on one and the same thread. Start one new "
                                   "std::thread per item.";
  }
}

TEST_F(SpawnAndJoin, ReturnsOnlyAfterEveryCallHasFinished) {
  constexpr int kCalls = 4;
  const std::vector<int> items = make_items(kCalls);
  // Every call announces that it started and then waits at a gate. The gate opens as soon as
  // run_in_threads returns (a correct one cannot: it is still joining the waiting calls), or
  // else, once all calls have started, one call at a time: item 0 after 200 ms, item 1 after
  // 400 ms, ... A correct run_in_threads therefore returns after about 800 ms, with every call
  // finished. One that returns early (detach, then sleep) is caught whatever it sleeps: every
  // call also checks whether its own thread has been detached. Releasing the calls in item
  // order also catches "join all but detach one": that detach comes right after the joins
  // before it, so it happens while its call is still held.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    int started = 0;
    bool together = true;  // false once a call gave up waiting for the others to start
    std::chrono::steady_clock::time_point all_started;
    bool returned = false;
    int finished = 0;
    std::vector<int> detached;  // items whose call ran on a detached thread
  };
  auto shared = std::make_shared<Shared>();

  int finished_at_return = -1;
  testkit::finishes_within(6s, "run_in_threads with 4 calls that wait at a gate", [&] {
    kata::run_in_threads(items, [shared](int item) {
      std::unique_lock lock(shared->mutex);
      if (++shared->started == kCalls) shared->all_started = std::chrono::steady_clock::now();
      shared->changed.notify_all();
      // Calls that never run together (a sequential loop) are another test's business: wait
      // at most 2 s for the others, then stop holding anybody.
      if (!shared->changed.wait_for(
              lock, 2s, [&] { return shared->started == kCalls || !shared->together; })) {
        shared->together = false;
        shared->changed.notify_all();
      }
      if (shared->together) {
        const auto release = shared->all_started + 200ms * ((item - 100) / 7 + 1);
        shared->changed.wait_until(lock, release, [&] { return shared->returned; });
      }
      if (this_thread_is_detached()) shared->detached.push_back(item);
      ++shared->finished;
    });
    std::lock_guard lock(shared->mutex);
    finished_at_return = shared->finished;
    shared->returned = true;
    shared->changed.notify_all();
  });

  std::lock_guard lock(shared->mutex);
  if (shared->started < kCalls) {
    ADD_FAILURE() << "work() was called only " << shared->started << " times for " << kCalls
                  << " items: start a thread for every item.";
  } else {
    EXPECT_EQ(finished_at_return, kCalls)
        << "run_in_threads returned when only " << finished_at_return << " of " << kCalls
        << " calls had finished. A function that starts threads must join every one of them "
           "before it returns: a detached thread goes on running after the caller thinks the "
           "work is done, and no sleep makes sure it has finished.";
  }
  EXPECT_TRUE(shared->detached.empty())
      << "the calls for items [" << to_text(shared->detached)
      << "] ran on threads that had been detached. Nobody can wait for a detached thread, so "
         "run_in_threads cannot know that its work has finished (a sleep only makes that "
         "likely). Keep every std::thread in a vector and join() each one.";
}

TEST_F(SpawnAndJoin, AnEmptyListStartsNothing) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  testkit::finishes_within(5s, "run_in_threads with no items", [&] {
    kata::run_in_threads({}, [calls](int) { calls->fetch_add(1); });
  });
  EXPECT_EQ(calls->load(), 0) << "work() was called although the list of items was empty";
}

}  // namespace
