// Runs a piece of the code under test with a deadline, so a hang becomes a clear message.
//
// Why: a learner's deadlock would otherwise end as a bare "TIMEOUT" from the grader. Here the
// call runs on a helper thread; if it has not returned by the deadline we print what was being
// waited for and a hint, then end the process at once (a hung thread cannot be stopped from
// outside, and returning would leave it running over freed memory). The grader reads the line
// "[testkit] TIMEOUT: ..." and reports the kata as TIMEOUT with that text.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "testkit/markers.hpp"

namespace testkit {

// What usually makes a call hang, said when the test gives no hint of its own.
inline const char* const kUsualHangCauses =
    "Something is waiting for an event that never comes: a join on a thread that never ends, a "
    "lock that is never released, or a wait that nobody notifies.";

namespace detail {

// The part of finishes_within that does not depend on fn's type: compiled once per test file,
// however many calls it has. (A template body with a std::thread and a timed wait, instantiated
// for every lambda, was most of a test file's compile time: the learner waits for it.)
inline void run_within(std::chrono::milliseconds deadline, const std::string& what,
                       const std::function<void()>& body, const std::string& hint) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
  };
  auto shared = std::make_shared<Shared>();
  std::thread runner([&body, shared] {
    try {
      body();
    } catch (...) {
      shared->error = std::current_exception();
    }
    std::lock_guard lock(shared->mutex);
    shared->done = true;
    shared->done_cv.notify_all();
  });
  {
    std::unique_lock lock(shared->mutex);
    if (!shared->done_cv.wait_for(lock, deadline, [&] { return shared->done; })) {
      std::fprintf(stderr, "\n%s%s did not finish within %.1f s. %s\n", markers::kTimeout,
                   what.c_str(), static_cast<double>(deadline.count()) / 1000.0, hint.c_str());
      std::fflush(stderr);
      std::_Exit(124);
    }
  }
  runner.join();
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace detail

// Calls fn() and returns its result, or ends the test process with the message
// "[testkit] TIMEOUT: <what> did not finish within <deadline>. <hint>" if fn has not returned
// by then. Give a `hint` that names this kata's likely causes. Exceptions reach the caller.
template <typename Fn>
auto finishes_within(std::chrono::milliseconds deadline, const std::string& what, Fn&& fn,
                     const std::string& hint = kUsualHangCauses) -> decltype(fn()) {
  using Result = decltype(fn());
  if constexpr (std::is_void_v<Result>) {
    detail::run_within(
        deadline, what, [&fn] { fn(); }, hint);
  } else {
    std::optional<Result> result;
    detail::run_within(
        deadline, what, [&] { result.emplace(fn()); }, hint);
    return std::move(*result);
  }
}

}  // namespace testkit
