// How many threads this process has, read from /proc/self/task (one entry per thread).
//
// Why: a pool that claims n workers, or a function that must join everything it started,
// is checked by counting the kernel's threads, not by trusting the code under test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "testkit/eventually.hpp"

namespace testkit {

inline int thread_count() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

// Waits up to `grace` for the thread count to fall back to `baseline` (threads that were
// joined may take a moment to disappear from /proc). Fails with a message if it does not.
inline ::testing::AssertionResult threads_back_to(
    int baseline, std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) {
  int now = thread_count();
  if (eventually([&] { return (now = thread_count()) <= baseline; }, grace)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << (now - baseline) << " thread(s) were still running after the test (" << now
         << " threads, expected " << baseline
         << "). Did the function return before joining every std::thread it started, or "
            "detach one (a detached thread keeps running after you stop looking at it)?";
}

}  // namespace testkit
