// Makes the calls that N threads make into a test's function happen in rounds: a thread's k-th
// call returns only once every one of the N threads has made its k-th call, and then the threads
// leave the round one at a time, each after the one before it has come back for the next round.
// Only the first `rounds` calls of each thread take part; later calls return at once.
//
// Why: a race on a variable that the code under test reads before it calls the test's function
// and writes after it (`sum = sum + f(x)`, a shared index incremented after the call) shows
// only when another thread's read or write lands in between, which may or may not happen on a
// given run. In lockstep it happens in every round: when a thread leaves round k, every other
// thread is inside its k-th call, past its own read; and no two threads ever leave at the same
// moment, so two writes of a shared index are never merged into one.
//
//   testkit::Lockstep lockstep(2, 16, std::chrono::seconds(2));
//   kata::integrate([&](double) { lockstep.arrive(); return 1.0; }, 64, 2);
//   EXPECT_TRUE(lockstep.completed()) << "the calls never overlapped: ...";
//
// It never hangs: a thread that waits longer than `patience` (the others never came, because the
// code runs the calls one at a time or on fewer threads) breaks the lockstep, and from then on
// every call returns at once; broken() says so. Threads beyond the first N pass straight through
// and are only counted (threads_seen()).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace testkit {

class Lockstep {
 public:
  Lockstep(std::size_t threads, int rounds, std::chrono::milliseconds patience)
      : threads_(threads), rounds_(rounds), patience_(patience) {}

  Lockstep(const Lockstep&) = delete;
  Lockstep& operator=(const Lockstep&) = delete;

  // Called by the test's function, first thing, on whichever thread runs it.
  void arrive() {
    std::unique_lock lock(mutex_);
    const std::size_t me = index_of_this_thread();
    const int round = ++calls_[me];
    changed_.notify_all();
    if (me >= threads_ || round > rounds_ || broken_) return;
    const bool all_here = wait(lock, [&] {
      return calls_.size() >= threads_ &&
             std::all_of(calls_.begin(), calls_.begin() + static_cast<std::ptrdiff_t>(threads_),
                         [&](int calls) { return calls >= round; });
    });
    if (!all_here) return;
    full_rounds_ = std::max(full_rounds_, round);
    // The last round ends together: a thread may have no call after it.
    if (round == rounds_ || me == 0) return;
    wait(lock, [&] { return calls_[me - 1] > round; });
  }

  // True once every round had all N threads in it, and nobody gave up waiting.
  bool completed() const {
    std::lock_guard lock(mutex_);
    return !broken_ && full_rounds_ == rounds_;
  }

  // True once a thread waited longer than the patience: the calls did not come together.
  bool broken() const {
    std::lock_guard lock(mutex_);
    return broken_;
  }

  // How many rounds had all N threads in them.
  int full_rounds() const {
    std::lock_guard lock(mutex_);
    return full_rounds_;
  }

  // How many different threads have called arrive().
  std::size_t threads_seen() const {
    std::lock_guard lock(mutex_);
    return ids_.size();
  }

  // How many calls arrived, from all threads together.
  int calls() const {
    std::lock_guard lock(mutex_);
    int total = 0;
    for (int calls : calls_) total += calls;
    return total;
  }

 private:
  // The calling thread's number: 0 for the first thread that ever arrived, 1 for the next...
  std::size_t index_of_this_thread() {
    const auto id = std::this_thread::get_id();
    const auto found = std::find(ids_.begin(), ids_.end(), id);
    if (found != ids_.end()) return static_cast<std::size_t>(found - ids_.begin());
    ids_.push_back(id);
    calls_.push_back(0);
    return ids_.size() - 1;
  }

  // Waits until `ready()`, or breaks the lockstep after the patience (or at once, if it is
  // broken already). Returns ready().
  template <typename Ready>
  bool wait(std::unique_lock<std::mutex>& lock, Ready ready) {
    if (changed_.wait_for(lock, patience_, [&] { return broken_ || ready(); }) && !broken_)
      return true;
    broken_ = true;
    changed_.notify_all();
    return ready();
  }

  const std::size_t threads_;
  const int rounds_;
  const std::chrono::milliseconds patience_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::thread::id> ids_;  // in the order the threads first arrived
  std::vector<int> calls_;            // calls made so far, per thread, in the same order
  int full_rounds_ = 0;
  bool broken_ = false;
};

}  // namespace testkit
