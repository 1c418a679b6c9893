// Waits until a condition holds, looking again and again, but never longer than a deadline.
//
// Why: a test often has to wait for something it cannot be notified of (a thread leaving
// /proc/self/task, a child turning into a zombie, a flag set in shared memory by another
// process). Hand-written "poll until a deadline" loops get the clock, the sleep and the last
// look subtly different each time; this is the one loop. It returns as soon as the condition
// holds, so a test that passes never waits out the deadline.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace testkit {

// Calls `condition()` until it returns true (then returns true) or `deadline` has passed
// (then returns false, after one last look). Between looks it sleeps, starting at 50 µs and
// doubling up to `longest_sleep`, so quick events are seen quickly and slow ones cost little.
template <typename Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds longest_sleep = std::chrono::milliseconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  std::chrono::microseconds sleep{50};
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return condition();
    std::this_thread::sleep_for(sleep);
    sleep = std::min<std::chrono::microseconds>(sleep * 2, longest_sleep);
  }
  return true;
}

}  // namespace testkit
