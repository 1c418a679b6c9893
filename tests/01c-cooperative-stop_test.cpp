// Tests for kata 01c: a Ticker's worker thread ticks until asked to stop, notices the request
// promptly (also in the middle of a long wait between ticks, and inside a tick that watches
// its stop_token), exits by itself, and is joined by the destructor.
//
// "Promptly" is proven by structure, not by a stopwatch: the interval between ticks is one
// hour, so a Ticker that stops within seconds must have interrupted its wait.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "cooperative_stop.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"

using namespace std::chrono_literals;

namespace {

class CooperativeStop : public testkit::LeakCheckedTest {};

constexpr const char* kSleepCannotBeWoken =
    "A std::this_thread::sleep_for cannot be woken early: wait on a "
    "std::condition_variable_any with the worker's stop_token, which wakes up as soon as a "
    "stop is requested.";

// Counts ticks and lets the test wait (with a bound) until a number of ticks has happened.
// Shared through a shared_ptr so a worker that outlives its Ticker still touches valid memory.
struct TickLog {
  std::mutex mutex;
  std::condition_variable changed;
  int ticks = 0;

  void record() {
    std::lock_guard lock(mutex);
    ++ticks;
    changed.notify_all();
  }
  bool wait_for_ticks(int n, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, bound, [&] { return ticks >= n; });
  }
  int count() {
    std::lock_guard lock(mutex);
    return ticks;
  }
};

// True once the process is back to `baseline` threads, i.e. the worker thread has ended (an
// ended thread leaves /proc/self/task even before it is joined); false after `bound`.
bool worker_ended_within(int baseline, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (testkit::thread_count() > baseline) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST_F(CooperativeStop, TicksAgainAndAgainUntilDestroyed) {
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(1ms, [log](std::stop_token) { log->record(); });

  ASSERT_TRUE(log->wait_for_ticks(5, 3s))
      << "with a 1 ms interval, tick() was called only " << log->count()
      << " time(s) in 3 s: the worker should call tick() right away and then once per "
         "interval until it is stopped";

  testkit::finishes_within(5s, "~Ticker() of a Ticker ticking every 1 ms", [&] { ticker.reset(); });
  const int at_destruction = log->count();
  std::this_thread::sleep_for(50ms);  // room for a worker that outlived its Ticker to show up
  EXPECT_EQ(log->count(), at_destruction)
      << "tick() was still being called after the Ticker was destroyed: the destructor must "
         "stop the worker and join it.";
}

TEST_F(CooperativeStop, DestroyingInterruptsTheWaitBetweenTicks) {
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(std::chrono::hours(1), [log](std::stop_token) { log->record(); });

  ASSERT_TRUE(log->wait_for_ticks(1, 3s))
      << "tick() was not called within 3 s of creating the Ticker: the worker should call "
         "tick() right away, then wait for the interval";

  testkit::finishes_within(
      5s, "~Ticker() while its worker waits out a one-hour interval between ticks",
      [&] { ticker.reset(); }, kSleepCannotBeWoken);
  EXPECT_EQ(log->count(), 1) << "tick() should have run exactly once before the stop";
}

TEST_F(CooperativeStop, EveryQuickStopRightAfterTheFirstTickIsHeard) {
  // A stop that comes at the wrong moment can be lost: if request_stop() sets the flag and
  // notifies while the worker holds no lock in common with it, the notify can fall after the
  // worker checked the flag (still false) and before it started to wait. Nobody is waiting
  // yet, so the notify wakes nobody, and the worker then sleeps out its whole interval. The
  // gap lasts a few dozen nanoseconds, so one try rarely hits it; thousands of create/destroy
  // cycles, each destroying at a slightly different moment right after the first tick, do.
  //
  // How fast this runs is no part of the test: the cycle count and the time budget only keep
  // it to a few seconds (a slow machine simply runs fewer cycles). The destroying thread
  // spins while it waits for the first tick, because waking up from a sleep takes far longer
  // than the gap, but only for a moment: then it yields its core between looks, so that on a
  // busy machine the worker gets to run. Under ThreadSanitizer every step (and the gap with
  // it) is about 10x longer and spinning is dear, so there it yields at once; the gap is
  // usually hit within a few hundred cycles there.
#if defined(__SANITIZE_THREAD__)
  constexpr int kCycles = 4000;
  constexpr auto kBudget = 3s;
  constexpr auto kSpinFor = 0us;
#else
  constexpr int kCycles = 25000;
  constexpr auto kBudget = 5s;
  constexpr auto kSpinFor = 200us;
#endif
  auto ticks = std::make_shared<std::atomic<int>>(0);
  const auto stop_starting = std::chrono::steady_clock::now() + kBudget;
  for (int cycle = 0; cycle < kCycles && std::chrono::steady_clock::now() < stop_starting;
       ++cycle) {
    // In the first cycle a wait that cannot be woken at all is as likely as a lost wake-up.
    const std::string what =
        "~Ticker() right after the first tick, in a one-hour interval, in cycle " +
        std::to_string(cycle + 1) +
        (cycle == 0 ? std::string() : " (the cycles before it stopped at once)");
    const std::string hint =
        (cycle == 0 ? std::string(kSleepCannotBeWoken) + " If it can be woken, the" : "The") +
        " wake-up was lost. Did request_stop change the flag or notify without holding the "
        "mutex the worker waits with? Then the wake-up can fall between the worker's check and "
        "its wait; see 'Lost wake-ups' in the lesson.";
    // Everything happens on the thread finishes_within starts, so that nothing (like starting
    // a thread) lies between seeing the tick and destroying the Ticker.
    const bool ticked = testkit::finishes_within(
        5s, what,
        [&] {
          ticks->store(0);
          std::optional<kata::Ticker> ticker;
          ticker.emplace(std::chrono::hours(1), [ticks](std::stop_token) { ticks->fetch_add(1); });
          const auto created = std::chrono::steady_clock::now();
          bool seen = true;
          for (long spins = 1; ticks->load() == 0; ++spins) {
            if (spins % 64 != 0) continue;
            const auto now = std::chrono::steady_clock::now();
            if (now - created < kSpinFor) continue;
            if (now - created > 3s) {
              seen = false;
              break;
            }
            std::this_thread::yield();
          }
          // A varied short pause (0 to 1023 steps, at most a few microseconds), so that the stop
          // lands at a different point of the worker's way from its tick into its wait each time.
          volatile int sink = 0;
          for (int i = 0; i < cycle * 7 % 1024; ++i) sink = sink + 1;
          ticker.reset();
          return seen;
        },
        hint);
    ASSERT_TRUE(ticked) << "tick() was not called within 3 s of creating a Ticker (cycle "
                        << cycle + 1 << "): the worker should call tick() right away";
  }
}

TEST_F(CooperativeStop, RequestStopEndsTheWorkerBeforeTheTickerIsDestroyed) {
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(std::chrono::hours(1), [log](std::stop_token) { log->record(); });
  ASSERT_TRUE(log->wait_for_ticks(1, 3s))
      << "tick() was not called within 3 s of creating the Ticker: the worker should call "
         "tick() right away, then wait for the interval";

  testkit::finishes_within(2s, "request_stop() (it should only ask, never wait)", [&] {
    ticker->request_stop();
    ticker->request_stop();  // asking twice is allowed
  });

  // The worker thread must end by itself; /proc/self/task shows when it has.
  EXPECT_TRUE(worker_ended_within(threads_at_start_, 3s))
      << "the worker thread was still alive 3 s after request_stop(), in the middle of a "
         "one-hour wait between ticks. The stop must wake that wait: wait on a "
         "std::condition_variable_any with the stop_token (wait_for(lock, token, interval, "
         "pred)) instead of sleeping.";

  testkit::finishes_within(
      5s, "~Ticker() after request_stop(), while its worker waits out a one-hour interval",
      [&] { ticker.reset(); }, kSleepCannotBeWoken);
  EXPECT_EQ(log->count(), 1) << "tick() should have run exactly once before the stop";
}

TEST_F(CooperativeStop, TheTokenGivenToTickFiresOnStop) {
  // tick() waits (at most 3 s) on the token it was given, as a long piece of work would.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    bool entered = false;
    bool saw_stop = false;
  };
  auto shared = std::make_shared<Shared>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(1ms, [shared](std::stop_token token) {
    std::unique_lock lock(shared->mutex);
    if (shared->entered) return;  // only the first tick watches the token
    shared->entered = true;
    shared->changed.notify_all();
    std::condition_variable_any stop_wakes_me;
    stop_wakes_me.wait_for(lock, token, 3s, [] { return false; });
    shared->saw_stop = token.stop_requested();
  });

  {
    std::unique_lock lock(shared->mutex);
    ASSERT_TRUE(shared->changed.wait_for(lock, 3s, [&] { return shared->entered; }))
        << "tick() was not called within 3 s of creating the Ticker";
  }
  testkit::finishes_within(6s, "~Ticker() while tick() watches its stop_token",
                           [&] { ticker.reset(); });

  std::lock_guard lock(shared->mutex);
  EXPECT_TRUE(shared->saw_stop)
      << "tick() watched the stop_token it was given for 3 s and it never fired, although the "
         "Ticker was being destroyed. Give tick() the worker's own token (the one std::jthread "
         "passes to its function, or jthread::get_stop_token()); a default-constructed "
         "std::stop_token{} can never be stopped.";
}

TEST_F(CooperativeStop, ATickMayAskForTheStopItself) {
  // The third tick calls request_stop() on its own Ticker, from the worker thread. A
  // request_stop() that joined the worker would wait for itself.
  struct Shared {
    std::atomic<kata::Ticker*> ticker{nullptr};
    std::atomic<int> ticks{0};
  };
  auto shared = std::make_shared<Shared>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(1ms, [shared](std::stop_token) {
    if (shared->ticks.fetch_add(1) + 1 != 3) return;
    for (int i = 0; i < 3000 && shared->ticker.load() == nullptr; ++i) {
      std::this_thread::sleep_for(1ms);  // the test stores the pointer right after emplace
    }
    if (kata::Ticker* self = shared->ticker.load()) self->request_stop();
  });
  shared->ticker.store(&*ticker);

  EXPECT_TRUE(worker_ended_within(threads_at_start_, 3s))
      << "the worker thread was still alive 3 s after tick() had called request_stop(): the "
         "worker should check for a stop after every tick and before every wait, and return.";
  EXPECT_EQ(shared->ticks.load(), 3)
      << "the third tick asked for a stop, yet tick() ran " << shared->ticks.load()
      << " times: once a stop is requested, no further tick should start.";
  testkit::finishes_within(5s, "~Ticker() after tick() itself asked to stop",
                           [&] { ticker.reset(); });
}

}  // namespace
