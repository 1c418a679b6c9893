// Kata 01b · Return instead of waiting
// A starter for the tutor's own tests: it waits for a notification that never comes.
#pragma once

#include <condition_variable>
#include <mutex>

namespace kata {

// TODO: return at once
inline int answer() {
  std::mutex mutex;
  std::condition_variable never;
  std::unique_lock lock(mutex);
  never.wait(lock, [] { return false; });
  return 0;
}

}  // namespace kata
