// Makes thread starts fail on purpose: while a FailThreadStarts lives, every pthread_create
// called by the thread that made it fails with EAGAIN, as when the system has no room for another
// thread. std::thread, std::jthread and std::async all start their threads with pthread_create.
//
// Why: what code does when a thread cannot be started is part of its contract, and a normal
// machine never shows it. In particular std::async with the default policy (async | deferred)
// then falls back, in libstdc++, to running the call later on the thread that asks for its
// result, while std::async(std::launch::async, ...) and std::thread report the failure with
// std::system_error. On a machine with room for threads both start a thread; only a failing
// start tells the two apart.
//
// How: this header defines pthread_create; a program's own definition takes the place of the C
// library's (also for the calls made inside libstdc++), and it forwards to the next definition,
// found with dlsym(RTLD_NEXT, ...): the C library's, or ThreadSanitizer's, which then calls the C
// library's. Include it in exactly one .cpp file of a test program (a second one fails to link).
#pragma once

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "testkit/thread_probe.hpp"

namespace testkit {

namespace thread_start_detail {

struct State {
  std::atomic<pid_t> failing{0};  // starts by this thread fail; 0: none
  std::atomic<int> refused{0};
};

// Never destroyed: threads may start while the program exits.
inline State& state() {
  static State* const the_state = new State;
  return *the_state;
}

}  // namespace thread_start_detail

// One at a time, on the thread whose thread starts should fail:
//
//   testkit::FailThreadStarts no_threads;
//   std::thread t(work);   // throws std::system_error (resource_unavailable_try_again)
class FailThreadStarts {
 public:
  FailThreadStarts() {
    thread_start_detail::state().refused.store(0);
    thread_start_detail::state().failing.store(this_thread_tid());
  }
  ~FailThreadStarts() { thread_start_detail::state().failing.store(0); }
  FailThreadStarts(const FailThreadStarts&) = delete;
  FailThreadStarts& operator=(const FailThreadStarts&) = delete;

  // How many thread starts have been refused so far.
  int refused() const { return thread_start_detail::state().refused.load(); }
};

}  // namespace testkit

extern "C" int pthread_create(pthread_t* thread, const pthread_attr_t* attributes,
                              void* (*start)(void*), void* argument) noexcept {
  using Fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  static const Fn next = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_create"));
  auto& state = testkit::thread_start_detail::state();
  const pid_t failing = state.failing.load();
  if (failing != 0 && failing == testkit::this_thread_tid()) {
    state.refused.fetch_add(1);
    return EAGAIN;
  }
  return next(thread, attributes, start, argument);
}
