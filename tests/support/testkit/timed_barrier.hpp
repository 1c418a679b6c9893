// A one-shot barrier that gives up instead of hanging.
//
// Why: "these N tasks ran at the same time" is proven by making each task wait at a barrier
// until all N have arrived. A sequential implementation never gets there; a plain
// std::barrier would hang the test forever. TimedBarrier waits at most `deadline`, then
// breaks: every waiting and later arrival returns false at once, and the test can say how
// many tasks were ever running together.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace testkit {

class TimedBarrier {
 public:
  TimedBarrier(std::size_t parties, std::chrono::milliseconds deadline)
      : parties_(parties), deadline_(deadline) {}

  TimedBarrier(const TimedBarrier&) = delete;
  TimedBarrier& operator=(const TimedBarrier&) = delete;

  // Blocks until all parties have arrived (returns true) or until this caller has waited
  // `deadline` (returns false and breaks the barrier for everybody).
  bool arrive_and_wait() {
    std::unique_lock lock(mutex_);
    ++arrived_;
    if (arrived_ >= parties_) {
      complete_ = true;
      changed_.notify_all();
      return !broken_;
    }
    bool done = changed_.wait_for(lock, deadline_, [&] { return complete_ || broken_; });
    if (!done) {
      broken_ = true;
      changed_.notify_all();
    }
    return complete_ && !broken_;
  }

  // How many parties have arrived so far (after a break: how many ever got there).
  std::size_t arrived() const {
    std::lock_guard lock(mutex_);
    return arrived_;
  }

  // True once every party arrived before anyone gave up.
  bool completed() const {
    std::lock_guard lock(mutex_);
    return complete_ && !broken_;
  }

  // True once somebody gave up waiting.
  bool broken() const {
    std::lock_guard lock(mutex_);
    return broken_;
  }

  std::size_t parties() const { return parties_; }

 private:
  const std::size_t parties_;
  const std::chrono::milliseconds deadline_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t arrived_ = 0;
  bool complete_ = false;
  bool broken_ = false;
};

}  // namespace testkit
