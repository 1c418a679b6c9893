// Tests of testkit/cond_wait_spy.hpp: it sees the watched thread's waits (and only those), also
// the ones made inside libstdc++; a held wait goes on when released, after its bound, or when
// the spy goes away; and holding a waiter at the door of its wait turns a lost wake-up from
// a rare accident into a certainty, while a correct notify is still heard; a spurious wake-up
// it makes fools a wait under `if` and not one under `while`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "testkit/cond_wait_spy.hpp"
#include "testkit/eventually.hpp"
#include "testkit/thread_probe.hpp"

namespace {

using namespace std::chrono_literals;

TEST(CondWaitSpy, MeasuresTheWatchedThreadsWaitsAndOnlyThose) {
  testkit::CondWaitSpy spy;
  std::mutex mutex;
  std::condition_variable wake;
  bool go = false;
  std::thread watched([&] {
    spy.watch(testkit::this_thread_tid());
    std::unique_lock lock(mutex);
    wake.wait_for(lock, 1h, [&] { return go; });
  });
  ASSERT_TRUE(testkit::eventually([&] { return spy.waits() == 1; }, 2s));
  const auto limit = spy.latest_limit();
  ASSERT_TRUE(limit.has_value());
  EXPECT_GT(*limit, 59min);
  EXPECT_LE(*limit, 1h);

  // A wait by another thread (this one) is not counted.
  {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, 1ms);
  }
  EXPECT_EQ(spy.waits(), 1);
  EXPECT_EQ(spy.holds(), 0);
  {
    std::lock_guard lock(mutex);
    go = true;
  }
  wake.notify_all();
  watched.join();
}

TEST(CondWaitSpy, SeesWaitsMadeInsideTheStandardLibrary) {
  testkit::CondWaitSpy spy;
  std::mutex mutex;
  std::condition_variable wake;          // wait(lock) is compiled into libstdc++.so
  std::condition_variable_any wake_any;  // the stop_token waits of C++20
  std::stop_source stop;
  bool go = false;
  std::thread watched([&] {
    spy.watch(testkit::this_thread_tid());
    std::unique_lock lock(mutex);
    while (!go) wake.wait(lock);
    wake_any.wait(lock, stop.get_token(), [] { return false; });
  });
  ASSERT_TRUE(testkit::eventually([&] { return spy.waits() >= 1; }, 2s));
  EXPECT_FALSE(spy.latest_limit().has_value()) << "wait(lock) asks for no limit";
  {
    std::lock_guard lock(mutex);
    go = true;
  }
  wake.notify_all();
  ASSERT_TRUE(testkit::eventually([&] { return spy.waits() >= 2; }, 2s));
  stop.request_stop();
  watched.join();
}

// Waits for `flag` the usual way and tells whether a notify woke it (false: it timed out
// although the flag was set during its wait... or before it, which is the lost wake-up).
struct Waiter {
  std::mutex mutex;
  std::condition_variable wake;
  std::atomic<bool> flag{false};
  std::atomic<pid_t> notifier{0};
  std::atomic<bool> notified{false};

  // Runs woken_by_notify on a new thread and returns once its wait is held at the door.
  std::thread start_held(testkit::CondWaitSpy& spy, std::optional<bool>& woken) {
    std::thread waiting([&] { woken = woken_by_notify(spy); });
    EXPECT_TRUE(testkit::eventually([&] { return spy.holds() == 1; }, 2s));
    return waiting;
  }

  bool woken_by_notify(testkit::CondWaitSpy& spy) {
    spy.watch(testkit::this_thread_tid());
    // Held at the door until the notifier has finished or is blocked (on our mutex).
    spy.hold_next_wait(
        [&] { return notified.load() || (notifier != 0 && testkit::blocked(notifier.load())); },
        2s);
    std::unique_lock lock(mutex);
    if (flag.load()) return true;
    return wake.wait_for(lock, 100ms) == std::cv_status::no_timeout;
  }
};

TEST(CondWaitSpy, AHoldAtTheDoorLosesAWakeUpSentWithoutTheMutex) {
  testkit::CondWaitSpy spy;
  Waiter waiter;
  std::optional<bool> woken;
  std::thread waiting = waiter.start_held(spy, woken);
  waiter.flag.store(true);  // the mistake: no lock in common with the waiter
  waiter.wake.notify_all();
  waiter.notified.store(true);
  waiting.join();
  EXPECT_EQ(woken, false) << "the notify came before the wait began: nobody heard it";
}

TEST(CondWaitSpy, AHoldAtTheDoorKeepsAWakeUpSentUnderTheMutex) {
  testkit::CondWaitSpy spy;
  Waiter waiter;
  std::optional<bool> woken;
  std::thread waiting = waiter.start_held(spy, woken);
  waiter.notifier.store(testkit::this_thread_tid());
  {
    std::lock_guard lock(waiter.mutex);  // blocks until the held waiter really waits
    waiter.flag.store(true);
  }
  waiter.wake.notify_all();
  waiting.join();
  EXPECT_EQ(woken, true) << "the waiter held the mutex until it waited: the notify was heard";
}

TEST(CondWaitSpy, AHoldEndsAfterItsBoundAndWhenTheSpyGoesAway) {
  std::mutex mutex;
  std::condition_variable wake;
  {
    testkit::CondWaitSpy spy;
    spy.watch(testkit::this_thread_tid());
    spy.hold_next_wait([] { return false; }, 50ms);
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex);
    wake.wait_for(lock, 1ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
    EXPECT_EQ(spy.holds(), 1);
  }
  std::optional<testkit::CondWaitSpy> spy;
  spy.emplace();
  std::atomic<bool> waited{false};
  std::thread held([&] {
    spy->watch(testkit::this_thread_tid());
    spy->hold_next_wait([] { return false; }, 1h);
    std::unique_lock lock(mutex);
    wake.wait_for(lock, 1ms);
    waited.store(true);
  });
  ASSERT_TRUE(testkit::eventually([&] { return spy->holds() == 1; }, 2s));
  spy.reset();  // lets the held wait go
  EXPECT_TRUE(testkit::eventually([&] { return waited.load(); }, 2s));
  held.join();
}

// Waits for `ready` with `if` (once) or `while` (until it holds), the next wait cut short by
// the spy; returns what `ready` was when the waiting ended.
bool wait_after_a_spurious_wake_up(bool with_while, testkit::CondWaitSpy& spy) {
  std::mutex mutex;
  std::condition_variable wake;
  bool ready = false;
  std::atomic<pid_t> waiter{0};
  std::atomic<bool> finished{false};
  bool seen = false;
  std::thread waiting([&] {
    spy.watch(testkit::this_thread_tid());
    spy.wake_next_wait_at_once();
    waiter = testkit::this_thread_tid();
    std::unique_lock lock(mutex);
    if (with_while) {
      while (!ready) wake.wait(lock);
    } else if (!ready) {
      wake.wait(lock);
    }
    seen = ready;
    finished = true;
  });
  // A `while` waits a second time, for real: then the notify ends it.
  testkit::eventually([&] { return finished || (spy.waits() == 2 && testkit::blocked(waiter)); },
                      2s);
  {
    std::lock_guard lock(mutex);
    ready = true;
    wake.notify_all();
  }
  waiting.join();
  EXPECT_EQ(spy.spurious_wakeups(), 1);
  return seen;
}

TEST(CondWaitSpy, ASpuriousWakeUpFoolsAnIfButNotAWhile) {
  {
    testkit::CondWaitSpy spy;
    EXPECT_FALSE(wait_after_a_spurious_wake_up(false, spy))
        << "an `if` waits once: the wait came back without a notify and `ready` was false";
    EXPECT_EQ(spy.waits(), 1);
  }
  testkit::CondWaitSpy spy;
  EXPECT_TRUE(wait_after_a_spurious_wake_up(true, spy))
      << "a `while` waits again after the spurious wake-up, until the notify";
  EXPECT_EQ(spy.waits(), 2);
}

}  // namespace
