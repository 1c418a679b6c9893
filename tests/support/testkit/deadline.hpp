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

// Calls fn() and returns its result, or ends the test process with the message
// "[testkit] TIMEOUT: <what> did not finish within <deadline>. <hint>" if fn has not returned
// by then. Give a `hint` that names this kata's likely causes. Exceptions reach the caller.
template <typename Fn>
auto finishes_within(std::chrono::milliseconds deadline, const std::string& what, Fn&& fn,
                     const std::string& hint = kUsualHangCauses) -> decltype(fn()) {
  using Result = decltype(fn());
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
  };
  auto shared = std::make_shared<Shared>();
  std::conditional_t<std::is_void_v<Result>, int, std::optional<Result>> result{};

  std::thread runner([&, shared] {
    try {
      if constexpr (std::is_void_v<Result>) {
        fn();
      } else {
        result.emplace(fn());
      }
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
  if constexpr (!std::is_void_v<Result>) return std::move(*result);
}

}  // namespace testkit
