// Runs a piece of the code under test with a deadline, so a hang becomes a clear message.
//
// Why: a learner's deadlock would otherwise end as a bare "TIMEOUT" from the grader. Here the
// call runs on a helper thread; if it has not returned by the deadline we print what was being
// waited for and a hint, then end the process at once (a hung thread cannot be stopped from
// outside, and returning would leave it running over freed memory). The grader reads the line
// "[testkit] TIMEOUT: ..." and reports the kata as TIMEOUT with that text.
//
// A deadlock does not wait out the deadline: while the call runs, testkit/deadlock.hpp looks
// every 100 ms whether every thread is blocked in a wait that only another of them could end,
// and if so says who waits for what within a fraction of a second.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace testkit {

// What usually makes a call hang, said when the test gives no hint of its own.
inline const char* const kUsualHangCauses =
    "Something is waiting for an event that never comes: a join on a thread that never ends, a "
    "lock that is never released, or a wait that nobody notifies.";

namespace detail {

// The part of finishes_within that does not depend on fn's type, in deadline.cpp: compiled once
// for every kata test. (A template body with a std::thread and a timed wait, instantiated for every
// lambda, was most of a test file's compile time: the learner waits for it.)
void run_within(std::chrono::milliseconds deadline, const std::string& what,
                const std::function<void()>& body, const std::string& hint);

}  // namespace detail

// Calls fn() and returns its result, or ends the test process with the message
// "[testkit] TIMEOUT: <what> did not finish within <deadline>. <hint>" if fn has not returned
// by then, or sooner "[testkit] TIMEOUT: <what> can never finish (a deadlock ...): <who waits for
// what>. <hint>" when every thread that could end it is blocked for good. Give a `hint` that names
// this kata's likely causes. Exceptions reach the caller.
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
