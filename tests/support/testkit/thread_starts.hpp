// Steers the start of new threads, for the thread that asks:
// - FailThreadStarts: every thread start fails with EAGAIN, as when the system has no room for
//   another thread;
// - NewThreadsRunFirst: creating a thread returns only once the new thread has run as far as it
//   goes by itself (it is blocked, waiting for something, or it has ended).
// std::thread, std::jthread and std::async all start their threads with pthread_create.
//
// Why: what code does when a thread cannot be started, or when a new thread runs before its
// creator has taken another step, is part of its contract, and a normal machine shows neither
// (or only once in a thousand runs):
// - std::async with the default policy (async | deferred) falls back, in libstdc++, to running
//   the call later on the thread that asks for its result when no thread can be started, while
//   std::async(std::launch::async, ...) and std::thread report the failure (std::system_error).
//   Only a failing start tells the two apart.
// - A thread member that is declared before the members its thread uses starts running while
//   those are not constructed yet. The creator usually finishes constructing them first; made to
//   wait for the new thread, it never does.
//
// How: this header defines pthread_create; a program's own definition takes the place of the C
// library's (also for the calls made inside libstdc++), and it forwards to ThreadSanitizer's or
// the C library's (see next_definition.hpp). Include it in exactly one .cpp file of a test program
// (a second one fails to link).
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

#include "testkit/eventually.hpp"
#include "testkit/next_definition.hpp"
#include "testkit/thread_probe.hpp"

namespace testkit {

namespace thread_starts_detail {

struct State {
  std::atomic<pid_t> failing{0};  // starts by this thread fail; 0: none
  std::atomic<int> refused{0};
  std::atomic<pid_t> waiting{0};  // this thread's starts wait for the new thread; 0: none
  std::atomic<long long> wait_bound_ms{0};
  std::atomic<int> waited{0};
};

// Never destroyed: threads may start while the program exits.
inline State& state() {
  static State* const the_state = new State;
  return *the_state;
}

// What a new thread runs first when its creator waits for it: it says who it is, then runs
// the function it was created with.
struct Start {
  void* (*function)(void*);
  void* argument;
  std::atomic<pid_t> tid{0};
};

inline void* run_start(void* start_pointer) {
  auto* start = static_cast<Start*>(start_pointer);
  void* (*const function)(void*) = start->function;
  void* const argument = start->argument;
  start->tid.store(this_thread_tid());  // the creator frees `start` once it has seen this
  return function(argument);
}

}  // namespace thread_starts_detail

// One at a time, on the thread whose thread starts should fail:
//
//   testkit::FailThreadStarts no_threads;
//   std::thread t(work);   // throws std::system_error (resource_unavailable_try_again)
class FailThreadStarts {
 public:
  FailThreadStarts() {
    thread_starts_detail::state().refused.store(0);
    thread_starts_detail::state().failing.store(this_thread_tid());
  }
  ~FailThreadStarts() { thread_starts_detail::state().failing.store(0); }
  FailThreadStarts(const FailThreadStarts&) = delete;
  FailThreadStarts& operator=(const FailThreadStarts&) = delete;

  // How many thread starts have been refused so far.
  int refused() const { return thread_starts_detail::state().refused.load(); }
};

// One at a time, on the thread whose thread starts should wait: each start returns once the
// new thread is blocked or has ended, or after `bound` (a new thread that never blocks).
//
//   testkit::NewThreadsRunFirst run_first(2s);
//   Ticker ticker(...);   // its worker has run as far as it goes before the constructor goes on
class NewThreadsRunFirst {
 public:
  explicit NewThreadsRunFirst(std::chrono::milliseconds bound) {
    auto& s = thread_starts_detail::state();
    s.waited.store(0);
    s.wait_bound_ms.store(bound.count());
    s.waiting.store(this_thread_tid());
  }
  ~NewThreadsRunFirst() { thread_starts_detail::state().waiting.store(0); }
  NewThreadsRunFirst(const NewThreadsRunFirst&) = delete;
  NewThreadsRunFirst& operator=(const NewThreadsRunFirst&) = delete;

  // How many thread starts have waited for their new thread so far.
  int waited() const { return thread_starts_detail::state().waited.load(); }
};

}  // namespace testkit

// ThreadSanitizer's own stand-in, when the program has one (see next_definition.hpp).
extern "C" int __interceptor_pthread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*),
                                            void*) __attribute__((weak));

extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                              void* (*function)(void*), void* argument) noexcept {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_create, "pthread_create");
  namespace detail = testkit::thread_starts_detail;
  auto& state = detail::state();
  const pid_t failing = state.failing.load();
  const pid_t waiting = state.waiting.load();
  if (failing == 0 && waiting == 0) return next(thread, attributes, function, argument);
  const pid_t self = testkit::this_thread_tid();
  if (failing == self) {
    state.refused.fetch_add(1);
    return EAGAIN;
  }
  if (waiting != self) return next(thread, attributes, function, argument);

  auto* start = new detail::Start{function, argument};
  const int result = next(thread, attributes, detail::run_start, start);
  if (result != 0) {
    delete start;
    return result;
  }
  const std::chrono::milliseconds bound(state.wait_bound_ms.load());
  const bool started = testkit::eventually([&] { return start->tid.load() != 0; }, bound);
  if (started) {
    const pid_t tid = start->tid.load();
    delete start;  // the new thread no longer touches it
    testkit::eventually([&] { return testkit::blocked(tid) || !testkit::thread_alive(tid); },
                        bound);
    state.waited.fetch_add(1);
  }  // else: a thread that has not begun yet may still read `start`; it is left to it
  return 0;
}
