// Kata 04b · Done-callbacks and as_completed: futures that say when they are done
// Lesson: lessons/04-executors-and-futures/README.md#done-callbacks-and-as_completed
//
// A std::future can only be waited on. Python's futures also take callbacks
// (add_done_callback), and concurrent.futures.as_completed hands them out as they finish.
// Build both on the Promise/Future pair below (what carries no TODO works as it is):
//   - add_done_callback(fn) runs fn(future) exactly once: at once, on the caller's thread, if
//     the future is done; otherwise on the thread that completes it, after the result is
//     stored, in the order the callbacks were added, with no lock held (a callback may call
//     get() or add a callback). A callback that throws is reported and the others still run.
//   - as_completed(futures) hands out each future as soon as it is done, in the order they
//     complete (those done before the call first); next() sleeps until one is ready, and throws
//     TimeoutError once `timeout` (counted from the call) has passed with none ready; it
//     returns std::nullopt once all are handed out. AsCompleted must stay movable.
//
// Grade it: make test KATA=04b        Stuck? make hint KATA=04b
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "thread_pool.hpp"  // support::ThreadPool, given (kata 03a solved)

namespace kata {

template <typename T>
class Future;
template <typename T>
class Promise;

// What next() throws when the timeout given to as_completed has passed (Python's TimeoutError).
struct TimeoutError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {

// What a Promise and all copies of its Future share.
template <typename T>
struct State {
  using Callback = std::function<void(const Future<T>&)>;

  std::mutex mutex;
  std::condition_variable completed;
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
  std::vector<Callback> callbacks;  // added before completion and not run yet
};

// A callback that throws must not stop the other callbacks, nor reach the code that completed
// the future. Python logs such an exception and goes on; so does this (on stderr).
inline void report_callback_error(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[kata::Future] a done-callback threw: %s (ignored)\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "[kata::Future] a done-callback threw (ignored)\n");
  }
}

// Calls callback(future), reporting (not letting out) what it throws.
template <typename T, typename Callback>
void run_callback(const Callback& callback, const Future<T>& future) {
  try {
    callback(future);
  } catch (...) {
    report_callback_error(std::current_exception());
  }
}

}  // namespace detail

// Python's concurrent.futures.Future. Copies share one result, as Python's references to one
// future object do; every member may be called from any thread.
template <typename T>
class Future {
  static_assert(!std::is_void_v<T>, "Future<void> is not supported: return a value (a bool)");

 public:
  using Callback = typename detail::State<T>::Callback;

  // True once the result (a value or an exception) is stored. Does not wait.
  bool done() const {
    std::lock_guard lock(state_->mutex);
    return state_->done;
  }

  // Waits until the future is done.
  void wait() const {
    std::unique_lock lock(state_->mutex);
    state_->completed.wait(lock, [&] { return state_->done; });
  }

  // Waits, then returns the value or throws the exception the work threw, with its type
  // (Python's result()).
  const T& get() const {
    std::unique_lock lock(state_->mutex);
    state_->completed.wait(lock, [&] { return state_->done; });
    if (state_->error) std::rethrow_exception(state_->error);
    return *state_->value;
  }

  // Waits, then returns the exception the work threw, or null if it returned a value.
  std::exception_ptr exception() const {
    std::unique_lock lock(state_->mutex);
    state_->completed.wait(lock, [&] { return state_->done; });
    return state_->error;
  }

  // Runs callback(*this) exactly once, when the future is done (see the top of the file).
  void add_done_callback(Callback callback) const {
    if (done()) {
      callback(*this);  // TODO: what if it throws?
      return;
    }
    // TODO: the future may complete right here, after done() said false and before the
    // callback is in the list. Who runs the callback then?
    std::lock_guard lock(state_->mutex);
    state_->callbacks.push_back(std::move(callback));
  }

  // Two futures are equal if they are copies of one future (Python compares them by identity).
  friend bool operator==(const Future& a, const Future& b) { return a.state_ == b.state_; }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<detail::State<T>> state) : state_(std::move(state)) {}

  std::shared_ptr<detail::State<T>> state_;
};

// The side that completes a Future. Move-only; a Promise destroyed before it was set completes
// its future with std::future_error(broken_promise), as std::promise does, so that nobody waits
// for it forever.
template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<detail::State<T>>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&&) = delete;
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;

  ~Promise() {
    if (state_ == nullptr) return;  // moved from
    bool unset = false;
    {
      std::lock_guard lock(state_->mutex);
      unset = !state_->done;
    }
    if (unset) {
      complete([](detail::State<T>& state) {
        state.error = std::make_exception_ptr(std::future_error(std::future_errc::broken_promise));
      });
    }
  }

  // Any number of times: every Future it returns is the same future.
  Future<T> get_future() const { return Future<T>(state_); }

  // Store the result and run the callbacks. A second call throws
  // std::future_error(promise_already_satisfied).
  void set_value(T value) {
    complete([&](detail::State<T>& state) { state.value.emplace(std::move(value)); });
  }
  void set_exception(std::exception_ptr error) {
    complete([&](detail::State<T>& state) { state.error = std::move(error); });
  }

 private:
  template <typename Store>
  void complete(Store&& store) {
    std::lock_guard lock(state_->mutex);
    if (state_->done) throw std::future_error(std::future_errc::promise_already_satisfied);
    store(*state_);
    state_->done = true;
    state_->completed.notify_all();
    // TODO: the callbacks run while the mutex is locked. What happens to one that calls get()?
    // TODO: if a callback throws, what happens to the ones after it?
    // TODO: the list stays in the state after the callbacks have run. What do they keep alive?
    const Future<T> future(state_);
    for (const auto& callback : state_->callbacks) callback(future);
  }

  std::shared_ptr<detail::State<T>> state_;
};

// Given: runs fn() on a worker of `pool` and returns a Future of its result (Python's
// executor.submit). The worker that runs fn completes the future, and so runs its callbacks.
template <typename Fn>
Future<std::invoke_result_t<Fn&>> submit(support::ThreadPool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  struct Job {
    Fn fn;
    Promise<R> promise;
  };
  auto job = std::make_shared<Job>(Job{std::move(fn), Promise<R>()});
  Future<R> future = job->promise.get_future();
  pool.submit([job] {
    std::optional<R> result;
    try {
      result.emplace(job->fn());
    } catch (...) {
      job->promise.set_exception(std::current_exception());
      return;
    }
    job->promise.set_value(std::move(*result));
  });
  return future;
}

// What as_completed returns: call next(), or loop over it: for (auto f : as_completed(fs)).
// One consumer at a time (like Python's generator).
template <typename T>
class AsCompleted {
 public:
  AsCompleted(const std::vector<Future<T>>& futures,
              std::optional<std::chrono::milliseconds> timeout)
      : pending_(futures) {
    if (timeout) deadline_ = std::chrono::steady_clock::now() + *timeout;
    // TODO: nothing here hears of a future completing. Who could tell this object at once?
  }

  // The next future to complete, as soon as it has; std::nullopt once every future has been
  // handed out. A future listed twice is handed out twice (Python's as_completed takes
  // set(fs), so once).
  std::optional<Future<T>> next() {
    // TODO: this asks every future done() again and again, with a short sleep in between: the
    // waiting thread wakes up 1000 times a second for nothing. And when several futures are
    // done, which one does it hand out: the one that completed first?
    for (;;) {
      if (pending_.empty()) return std::nullopt;
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->done()) {
          Future<T> future = *it;
          pending_.erase(it);
          return future;
        }
      }
      if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) {
        throw TimeoutError(std::to_string(pending_.size()) + " futures unfinished at the timeout");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // Given: the range interface, for a range-for loop. begin() and ++ call next().
  class Iterator {
   public:
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    explicit Iterator(AsCompleted* owner) : owner_(owner) { ++*this; }
    const Future<T>& operator*() const { return *current_; }
    Iterator& operator++() {
      current_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) { return !it.current_; }

   private:
    AsCompleted* owner_ = nullptr;
    std::optional<Future<T>> current_;
  };

  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  std::vector<Future<T>> pending_;  // not handed out yet
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// Python's concurrent.futures.as_completed(fs, timeout).
template <typename T>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures,
                            std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  return AsCompleted<T>(futures, timeout);
}

}  // namespace kata
