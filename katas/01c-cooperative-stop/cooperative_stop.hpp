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
#include <functional>
#include <stop_token>
#include <thread>
#include <utility>

namespace kata {

class Ticker {
 public:
  using Tick = std::function<void(std::stop_token)>;

  Ticker(std::chrono::milliseconds interval, Tick tick)
      : interval_(interval), tick_(std::move(tick)), worker_([this] { run(); }) {}

  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // Asks the worker to finish. Returns at once; may be called from any thread, also from
  // inside tick(), and more than once.
  void request_stop() { stop_requested_ = true; }

  // Stops the worker and waits until it has finished.
  ~Ticker() {
    request_stop();
    worker_.join();
  }

 private:
  void run() {
    // TODO: the worker reads stop_requested_ while another thread writes it: a data race.
    while (!stop_requested_) {
      // TODO: a default-constructed std::stop_token never fires, so tick() cannot notice a stop.
      tick_(std::stop_token{});
      // TODO: nothing can wake this sleep early: a stop waits for the whole interval.
      std::this_thread::sleep_for(interval_);
    }
  }

  std::chrono::milliseconds interval_;
  Tick tick_;
  bool stop_requested_ = false;
  std::thread worker_;  // last member: it starts after (and is joined before) the ones it uses
};

}  // namespace kata
