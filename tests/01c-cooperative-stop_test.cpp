// Tests for kata 01c: a Ticker's worker thread ticks until asked to stop, notices the request
// promptly (also in the middle of a long wait between ticks, and inside a tick that watches
// its stop_token), exits by itself, and is joined by the destructor.
//
// "Promptly" is proven by structure, not by a stopwatch: the interval between ticks is one
// hour, so a Ticker that stops within seconds must have interrupted its wait; and what the idle
// worker is blocked in (/proc/self/task/<tid>/syscall) shows whether a stop can reach it at all.
// A lost wake-up is not left to luck either: testkit::CondWaitSpy holds the worker at the door
// of its wait, the one place where a stop that takes no lock in common with it gets lost.
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "cooperative_stop.hpp"
#include "testkit/cond_wait_spy.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/thread_starts.hpp"

namespace {

using namespace std::chrono_literals;

class CooperativeStop : public testkit::LeakCheckedTest {};

constexpr const char* kSleepCannotBeWoken =
    "Can anything cut the worker's wait between ticks short? Nothing wakes a "
    "std::this_thread::sleep_for early.";

// Counts ticks, remembers the worker thread, and lets the test wait (with a bound) until a
// number of ticks has happened. Shared through a shared_ptr so a worker that outlives its
// Ticker still touches valid memory.
struct TickLog {
  std::mutex mutex;
  std::condition_variable changed;
  int ticks = 0;
  std::atomic<pid_t> worker{0};  // kernel id of the thread that ran tick()

  void record() {
    worker.store(testkit::this_thread_tid());
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
  // True once the worker thread has ended (an ended thread leaves /proc/self/task even before
  // it is joined); false after `bound`.
  bool worker_ended_within(std::chrono::milliseconds bound) {
    return testkit::eventually([&] { return !testkit::thread_alive(worker.load()); }, bound);
  }
};

// Starts `ticker` with a one-hour interval, its ticks counted in `log`, and waits (up to 3 s)
// for the first tick.
::testing::AssertionResult first_tick_of_hourly(std::optional<kata::Ticker>& ticker,
                                                const std::shared_ptr<TickLog>& log) {
  ticker.emplace(1h, [log](std::stop_token) { log->record(); });
  if (log->wait_for_ticks(1, 3s)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "tick() was not called within 3 s of creating the Ticker: the worker should call "
            "tick() right away, then wait for the interval";
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
  EXPECT_TRUE(log->worker_ended_within(2s))
      << "the worker thread was still running 2 s after the Ticker was destroyed: does the "
         "destructor wait for the worker to end?";
  EXPECT_EQ(log->count(), at_destruction)
      << "tick() was still being called after the Ticker was destroyed: does the destructor "
         "wait for the worker to end?";
}

TEST_F(CooperativeStop, DestroyingInterruptsTheWaitBetweenTicks) {
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ASSERT_TRUE(first_tick_of_hourly(ticker, log));

  testkit::finishes_within(
      5s, "~Ticker() while its worker waits out a one-hour interval between ticks",
      [&] { ticker.reset(); }, kSleepCannotBeWoken);
  EXPECT_EQ(log->count(), 1) << "tick() should have run exactly once before the stop";
}

TEST_F(CooperativeStop, AnIdleWorkerWaitsInOneWaitThatAStopCanEnd) {
  // Between two ticks of a one-hour interval the worker has nothing to do, and what it is
  // blocked in shows whether a stop can reach it: nothing but the clock ends a sleep
  // (std::this_thread::sleep_for, in slices of any length). testkit::CondWaitSpy also shows how
  // long a condition-variable wait asked to last at most: one that wakes itself up every few
  // milliseconds to look for a stop is polling, whatever it waits on.
  testkit::CondWaitSpy spy;
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(1h, [log, &spy](std::stop_token) {
    spy.watch(testkit::this_thread_tid());
    log->record();
  });
  ASSERT_TRUE(log->wait_for_ticks(1, 3s))
      << "tick() was not called within 3 s of creating the Ticker: the worker should call "
         "tick() right away, then wait for the interval";

  std::optional<testkit::BlockedSyscall> idle;
  const bool went_idle = testkit::eventually(
      [&] {
        idle = testkit::blocked_syscall(log->worker.load());
        return idle.has_value();
      },
      3s);
  const bool sleeping = idle && (idle->number == SYS_clock_nanosleep
#ifdef SYS_nanosleep
                                 || idle->number == SYS_nanosleep
#endif
                                );
  const auto limit = spy.latest_limit();
  if (!went_idle) {
    ADD_FAILURE() << "3 s after its first tick, in a one-hour interval, the worker thread was "
                     "still running instead of waiting: does it spin in a loop, looking for a "
                     "stop again and again?";
  } else if (sleeping) {
    ADD_FAILURE() << "between two ticks of a one-hour interval the worker sleeps (in "
                     "std::this_thread::sleep_for, the kernel's nanosleep), and nothing but the "
                     "clock ends a sleep, in slices of any length: a stop waits for the slice to "
                     "end, and the worker wakes up again and again for nothing. How could a stop "
                     "wake the worker at once?";
  } else if (idle->number == SYS_futex && spy.waits() > 0 && limit && *limit < 30min) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*limit).count();
    ADD_FAILURE() << "between two ticks of a one-hour interval the worker waits on a condition "
                     "variable for at most "
                  << ms
                  << " ms at a time, then wakes up to look for a stop: polling, all day long. "
                     "Does the stop notify the worker's wait, so that one wait can last the "
                     "whole interval?";
  }
  testkit::finishes_within(
      5s, "~Ticker() while its worker waits out a one-hour interval between ticks",
      [&] { ticker.reset(); }, kSleepCannotBeWoken);
}

TEST_F(CooperativeStop, EveryQuickStopRightAfterTheFirstTickIsHeard) {
  // A stop that comes right after a tick can be lost at two moments, and each is tried on
  // purpose, once:
  //  - while tick() still runs: tick() returns only once the thread destroying the Ticker is
  //    blocked (in request_stop() or in the join), so the worker must look for the stop after
  //    the tick, before it waits;
  //  - at the door of the wait: the worker has looked for a stop, found none, still holds its
  //    mutex and is about to wait. testkit::CondWaitSpy holds its next condition-variable wait
  //    there until the destroying thread is blocked. A request_stop() that changes the flag and
  //    notifies without that mutex is over before the wait begins: nobody hears the notify, and
  //    the worker sleeps the whole hour. One that takes the mutex blocks until the wait has
  //    begun, and the wait hears it.
  // Without the hold the second gap lasts a few dozen nanoseconds, and only thousands of tries
  // hit it now and then; held, it is hit every time, in milliseconds.
  enum class Moment { kDuringTheTick, kAtTheDoorOfTheWait };
  for (const Moment moment : {Moment::kDuringTheTick, Moment::kAtTheDoorOfTheWait}) {
    const bool during_tick = moment == Moment::kDuringTheTick;
    const std::string what =
        during_tick ? "~Ticker() begun while the first tick() still ran, in a one-hour interval"
                    : "~Ticker() begun while the worker was about to wait (it had looked for a "
                      "stop and held its mutex), in a one-hour interval";
    const std::string hint =
        during_tick
            ? std::string(kSleepCannotBeWoken) +
                  " If it can, the stop came while tick() ran and the worker then waited out the "
                  "whole interval: does it look for a stop after each tick, before it waits?"
            : "The stop came between the worker's look at the flag and the start of its wait, "
              "and the wake-up was lost. Did request_stop change the flag or notify without "
              "holding the mutex the worker waits with? See 'Lost wake-ups' in the lesson.";
    struct Shared {
      std::atomic<int> ticks{0};
      std::atomic<pid_t> worker{0};
      std::atomic<pid_t> destroyer{0};
      std::atomic<bool> destroying{false};
    };
    auto shared = std::make_shared<Shared>();
    auto destroyer_blocked = [shared] {
      return shared->destroying.load() && testkit::blocked(shared->destroyer.load());
    };
    testkit::CondWaitSpy spy;
    const bool ticked = testkit::finishes_within(
        5s, what,
        [&] {
          shared->destroyer.store(testkit::this_thread_tid());
          std::optional<kata::Ticker> ticker;
          ticker.emplace(1h, [shared, &spy, during_tick, destroyer_blocked](std::stop_token) {
            if (shared->ticks.fetch_add(1) != 0) return;
            shared->worker.store(testkit::this_thread_tid());
            if (during_tick) {
              testkit::eventually(destroyer_blocked, 2s);
            } else {
              spy.watch(testkit::this_thread_tid());
              spy.hold_next_wait(destroyer_blocked, 2s);
            }
          });
          const bool seen = testkit::eventually([&] { return shared->ticks.load() > 0; }, 3s);
          if (!during_tick) {
            // Destroy only once the worker is at the door (or blocked in a wait of another
            // kind, which the spy cannot hold): earlier, it would find the stop before its wait.
            testkit::eventually(
                [&] { return spy.holds() > 0 || testkit::blocked(shared->worker.load()); }, 3s);
          }
          shared->destroying.store(true);
          ticker.reset();
          return seen;
        },
        hint);
    ASSERT_TRUE(ticked) << "tick() was not called within 3 s of creating a Ticker: the worker "
                           "should call tick() right away";
  }
}

TEST_F(CooperativeStop, RequestStopEndsTheWorkerBeforeTheTickerIsDestroyed) {
  auto log = std::make_shared<TickLog>();
  std::optional<kata::Ticker> ticker;
  ASSERT_TRUE(first_tick_of_hourly(ticker, log));

  testkit::finishes_within(2s, "request_stop() (it should only ask, never wait)", [&] {
    ticker->request_stop();
    ticker->request_stop();  // asking twice is allowed
  });

  // The worker thread must end by itself; /proc/self/task shows when it has.
  EXPECT_TRUE(log->worker_ended_within(3s))
      << "the worker thread was still alive 3 s after request_stop(), in the middle of a "
         "one-hour wait between ticks: can request_stop() wake that wait?";

  testkit::finishes_within(
      5s, "~Ticker() after request_stop(), while its worker waits out a one-hour interval",
      [&] { ticker.reset(); }, kSleepCannotBeWoken);
  EXPECT_EQ(log->count(), 1) << "tick() should have run exactly once before the stop";
}

std::string explain_early_worker_crash(std::exception_ptr) {
  return "The program ended while the worker ran before the Ticker's constructor had finished "
         "(an empty std::function called, a mutex or condition variable used before it was "
         "built). Does the worker use a member that was not constructed yet when it started? "
         "Members are constructed in the order they are declared.";
}

TEST_F(CooperativeStop, AWorkerThatRunsAtOnceFindsEveryMemberReady) {
  // A thread runs the moment it is created, here in the middle of the Ticker's constructor,
  // while the members declared after the thread member are not constructed yet. Usually the
  // constructor wins that race; testkit::NewThreadsRunFirst makes the worker win it: the
  // constructor goes on only once the worker has ticked and waits. The Ticker is built in
  // zero-filled memory, so a member that is used before it is constructed looks the same every
  // time (an empty std::function, a condition variable without its insides).
  testkit::TerminateNote note(explain_early_worker_crash);
  auto log = std::make_shared<TickLog>();
  alignas(kata::Ticker) unsigned char storage[sizeof(kata::Ticker)] = {};
  kata::Ticker* ticker = nullptr;
  {
    testkit::NewThreadsRunFirst run_first(2s);
    // A 1 ms interval, so that destroying it needs no interruptible wait (other tests check
    // that): the worker still ticks and blocks before the constructor goes on.
    ticker = new (storage) kata::Ticker(1ms, [log](std::stop_token) { log->record(); });
  }
  EXPECT_TRUE(log->wait_for_ticks(1, 3s))
      << "tick() was not called within 3 s of creating the Ticker: the worker should call "
         "tick() right away";
  testkit::finishes_within(
      5s, "~Ticker() of a Ticker whose worker ran before its constructor had finished",
      [&] { ticker->~Ticker(); },
      "Does the worker use a member that was not constructed yet when it started? Members are "
      "constructed in the order they are declared.");
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
         "Ticker was being destroyed. Is tick() given a token that the Ticker's stop fires? A "
         "default-constructed std::stop_token{} belongs to no stop source and never fires.";
}

TEST_F(CooperativeStop, ATickMayAskForTheStopItself) {
  // The third tick calls request_stop() on its own Ticker, from the worker thread. A
  // request_stop() that joined the worker would wait for itself.
  struct Shared {
    std::atomic<kata::Ticker*> ticker{nullptr};
    std::atomic<int> ticks{0};
    std::atomic<pid_t> worker{0};
  };
  auto shared = std::make_shared<Shared>();
  std::optional<kata::Ticker> ticker;
  ticker.emplace(1ms, [shared](std::stop_token) {
    shared->worker.store(testkit::this_thread_tid());
    if (shared->ticks.fetch_add(1) + 1 != 3) return;
    // The test stores the pointer right after emplace.
    testkit::eventually([&] { return shared->ticker.load() != nullptr; }, 3s);
    if (kata::Ticker* self = shared->ticker.load()) self->request_stop();
  });
  shared->ticker.store(&*ticker);

  EXPECT_TRUE(testkit::eventually(
      [&] {
        const pid_t worker = shared->worker.load();
        return worker != 0 && !testkit::thread_alive(worker);
      },
      3s))
      << "the worker thread was still alive 3 s after tick() had called request_stop(): does "
         "the worker look for a stop after every tick, before it waits, and return?";
  EXPECT_EQ(shared->ticks.load(), 3)
      << "the third tick asked for a stop, yet tick() ran " << shared->ticks.load()
      << " times: once a stop is requested, should another tick start?";
  testkit::finishes_within(5s, "~Ticker() after tick() itself asked to stop",
                           [&] { ticker.reset(); });
}

}  // namespace
