// Watches the condition-variable waits of one chosen thread and, on request, holds its next
// wait at the door: the thread has checked its condition and still holds its mutex, but it is
// not waiting yet.
//
// Why: a lost wake-up needs a stop (flag changed, notify sent) that lands after the waiter
// checked the flag and before it began to wait. That gap lasts a few dozen nanoseconds, so a
// test that only tries again and again hits it by luck, thousands of tries at a time. Holding
// the waiter in the gap until the stopping thread is seen blocked puts the stop there in one
// try: a correct stop (flag changed or notify sent under the waiter's mutex) blocks on that
// mutex, goes on once the wait has begun, and is heard; a stop that takes no lock in common with
// the waiter is over before the wait begins, and the waiter sleeps through it.
// The spy also records how long each wait of the thread asked to last at most, which tells a
// wait that lasts until it is woken from one that wakes itself up every few milliseconds to look.
// And it can make the thread's next wait return at once, without a notify: a spurious wake-up,
// which the C++ standard allows every wait to have and which a real program meets rarely (or as
// a stolen wake-up: notified, but another thread took what it was woken for). Code that waits
// with `if` instead of `while` (or without a predicate) goes on as if its condition held; here
// it does so on every run.
//
// How: every std::condition_variable and std::condition_variable_any wait ends in
// pthread_cond_wait, pthread_cond_timedwait or pthread_cond_clockwait. This header defines the
// three; a program's own definitions take the place of the C library's (also for the calls made
// inside libstdc++), and each one forwards to ThreadSanitizer's or the C library's (see
// next_definition.hpp).
// Include it in exactly one .cpp file of a test program (a second one fails to link).
#pragma once

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "testkit/eventually.hpp"
#include "testkit/next_definition.hpp"
#include "testkit/thread_probe.hpp"

namespace testkit {

namespace cond_wait_detail {

inline constexpr long long kNoLimit = -1;

struct State {
  std::atomic<pid_t> watched{0};  // 0: nobody
  std::atomic<int> waits{0};
  std::atomic<int> holds{0};
  std::atomic<long long> latest_limit_ns{kNoLimit};
  std::atomic<bool> closing{false};    // the spy is going away: let a held wait go
  std::atomic<int> holding{0};         // waits being held right now
  std::atomic<int> spurious_asked{0};  // next waits to return at once
  std::atomic<int> spurious_made{0};
  std::mutex mutex;               // guards the two below
  std::function<bool()> release;  // asked for by hold_next_wait, not taken yet
  std::chrono::milliseconds bound{0};
};

// Never destroyed: a wait may pass through the stand-ins while the program exits.
inline State& state() {
  static State* const the_state = new State;
  return *the_state;
}

// Runs on the waiting thread right before it really waits. `deadline` is absolute, on `clock`;
// null for a wait without a limit. Returns true if the wait is to return at once (spurious).
inline bool before_wait(clockid_t clock, const timespec* deadline) {
  State& s = state();
  const pid_t watched = s.watched.load();
  if (watched == 0 || watched != this_thread_tid()) return false;
  long long limit = kNoLimit;
  if (deadline != nullptr) {
    timespec now{};
    clock_gettime(clock, &now);
    limit = (static_cast<long long>(deadline->tv_sec) - now.tv_sec) * 1'000'000'000LL +
            (deadline->tv_nsec - now.tv_nsec);
  }
  // The limit first, the count second: a test that sees waits() grow reads this wait's limit
  // (counted first, a test could read the limit before it was stored).
  s.latest_limit_ns.store(limit);
  s.waits.fetch_add(1);

  std::function<bool()> release;
  std::chrono::milliseconds bound{0};
  {
    std::lock_guard lock(s.mutex);
    release = std::exchange(s.release, nullptr);
    bound = s.bound;
    if (release) s.holding.fetch_add(1);
  }
  if (release) {
    s.holds.fetch_add(1);
    eventually([&] { return s.closing.load() || release(); }, bound);
    s.holding.fetch_sub(1);
  }
  int asked = s.spurious_asked.load();
  while (asked > 0 && !s.spurious_asked.compare_exchange_weak(asked, asked - 1)) {
  }
  if (asked <= 0) return false;
  s.spurious_made.fetch_add(1);
  return true;
}

}  // namespace cond_wait_detail

// One spy at a time, for the length of a test:
//
//   testkit::CondWaitSpy spy;
//   ... on the thread to watch (e.g. inside a callback it runs):
//   spy.watch(testkit::this_thread_tid());
//   spy.hold_next_wait([&] { return stopper_is_blocked(); }, 2s);
class CondWaitSpy {
 public:
  CondWaitSpy() { reset(); }
  ~CondWaitSpy() {
    auto& s = cond_wait_detail::state();
    s.watched.store(0);
    s.closing.store(true);  // a wait held right now goes on at once
    while (s.holding.load() > 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    reset();
  }
  CondWaitSpy(const CondWaitSpy&) = delete;
  CondWaitSpy& operator=(const CondWaitSpy&) = delete;

  // From now on, count and measure the waits of thread `tid` (see this_thread_tid()).
  void watch(pid_t tid) { cond_wait_detail::state().watched.store(tid); }

  // The next wait the watched thread begins is held first, until `release()` returns true
  // (asked again and again, on the waiting thread) or `bound` has passed; then it waits as its
  // caller asked. `release` must not wait for the held thread itself.
  void hold_next_wait(std::function<bool()> release, std::chrono::milliseconds bound) {
    auto& s = cond_wait_detail::state();
    std::lock_guard lock(s.mutex);
    s.release = std::move(release);
    s.bound = bound;
  }

  // The watched thread's next wait (after its hold, if one was asked for) returns at once,
  // without waiting and without a notify, as a spurious wake-up would; its mutex stays locked,
  // as after every wait. Asked n times, the next n waits do so.
  void wake_next_wait_at_once() { cond_wait_detail::state().spurious_asked.fetch_add(1); }

  // How many waits the watched thread has begun, how many of them were held, and how many
  // returned at once (wake_next_wait_at_once).
  int waits() const { return cond_wait_detail::state().waits.load(); }
  int holds() const { return cond_wait_detail::state().holds.load(); }
  int spurious_wakeups() const { return cond_wait_detail::state().spurious_made.load(); }

  // How long the watched thread's latest wait asked to last at most (empty: it asked for no
  // limit, or it has not waited yet; waits() tells which).
  std::optional<std::chrono::nanoseconds> latest_limit() const {
    const long long limit = cond_wait_detail::state().latest_limit_ns.load();
    if (limit == cond_wait_detail::kNoLimit) return std::nullopt;
    return std::chrono::nanoseconds(limit);
  }

 private:
  static void reset() {
    auto& s = cond_wait_detail::state();
    std::lock_guard lock(s.mutex);
    s.watched.store(0);
    s.waits.store(0);
    s.holds.store(0);
    s.latest_limit_ns.store(cond_wait_detail::kNoLimit);
    s.release = nullptr;
    s.spurious_asked.store(0);
    s.spurious_made.store(0);
    s.closing.store(false);
  }
};

}  // namespace testkit

// ThreadSanitizer's own stand-ins, when the program has them (see next_definition.hpp).
extern "C" int __interceptor_pthread_cond_wait(pthread_cond_t*, pthread_mutex_t*)
    __attribute__((weak));
extern "C" int __interceptor_pthread_cond_timedwait(pthread_cond_t*, pthread_mutex_t*,
                                                    const timespec*) __attribute__((weak));
extern "C" int __interceptor_pthread_cond_clockwait(pthread_cond_t*, pthread_mutex_t*, clockid_t,
                                                    const timespec*) __attribute__((weak));

// The stand-ins. Each one finds the definition it forwards to once, lets the spy see the wait,
// and forwards (or, for a spurious wake-up, returns 0 at once with the mutex still locked).
extern "C" int pthread_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_cond_wait, "pthread_cond_wait");
  if (testkit::cond_wait_detail::before_wait(CLOCK_REALTIME, nullptr)) return 0;
  return next(cond, mutex);
}

extern "C" int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                                      const timespec* deadline) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_cond_timedwait, "pthread_cond_timedwait");
  // A condition variable made with default attributes (as the standard library's are) measures
  // a timed wait's deadline on CLOCK_REALTIME.
  if (testkit::cond_wait_detail::before_wait(CLOCK_REALTIME, deadline)) return 0;
  return next(cond, mutex, deadline);
}

extern "C" int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                                      const timespec* deadline) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_cond_clockwait, "pthread_cond_clockwait");
  if (testkit::cond_wait_detail::before_wait(clock, deadline)) return 0;
  return next(cond, mutex, clock, deadline);
}
