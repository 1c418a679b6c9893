// Kata 01c · Stop a worker thread politely with std::jthread and std::stop_token
// Lesson: lessons/01-threads/README.md#stopping-a-thread
//
// A Ticker calls tick() on a background thread right away and then once every `interval`,
// until it is asked to stop. A thread cannot be killed from outside; it has to notice the
// request and return by itself. Make the stop safe (no data race) and prompt: request_stop()
// must also cut short the wait between two ticks, and the stop_token handed to tick() must
// fire, so a long tick can end early too. The destructor stops the worker and joins it.
//
// Grade it: make test KATA=01c        Stuck? make hint KATA=01c
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace kata {

class Ticker {
 public:
  using Tick = std::function<void(std::stop_token)>;

  // std::jthread hands the lambda the stop_token of its own stop_source.
  Ticker(std::chrono::milliseconds interval, Tick tick)
      : interval_(interval),
        tick_(std::move(tick)),
        worker_([this](std::stop_token stop) { run(stop); }) {}

  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // Asks the worker to finish. Returns at once; may be called from any thread, also from
  // inside tick(), and more than once. The stop state is synchronised: no data race.
  void request_stop() { worker_.request_stop(); }

  // Nothing to write: destroying the std::jthread calls request_stop() and then join().
  ~Ticker() = default;

 private:
  void run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      tick_(stop);  // the same token: a long tick can watch it too
      // Waits for the interval, but wakes up at once when a stop is requested: this overload
      // of wait_for registers a stop_callback that notifies the condition variable. The
      // predicate says "nothing else to wait for"; the wait ends on stop or on timeout.
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, interval_, [] { return false; });
    }
  }

  std::chrono::milliseconds interval_;
  Tick tick_;
  std::mutex mutex_;                  // only for the interruptible wait
  std::condition_variable_any wake_;  // _any: the kind that accepts a stop_token
  std::jthread worker_;  // last member: it starts after (and is joined before) the ones it uses
};

}  // namespace kata
