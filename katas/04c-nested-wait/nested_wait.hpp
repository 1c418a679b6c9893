// Kata 04c · A task that waits for a task: get() that helps instead of deadlocking
// Lesson: lessons/04-executors-and-futures/README.md#the-nested-wait-deadlock
//
// Pool(n) runs callables on n workers; submit(fn) returns a TaskFuture whose get() gives fn's
// result or throws fn's exception. Inside a task, get() on another task of the same pool blocks
// a worker: once every worker waits like that, the tasks they wait for sit in the queue and no
// thread is left to run them. Python's docs warn of this for ThreadPoolExecutor; a recursive
// fib or quicksort on 2 workers runs into it at depth 3. Make get() safe inside a task:
//   - on one of this pool's own workers, get() runs queued tasks while its result is not ready,
//     and sleeps only when there is nothing to run (woken by its result or by a new task);
//   - on any other thread (the caller's, another pool's worker) it just waits;
//   - no thread is ever started besides the n workers; every task runs exactly once.
//
// Grade it: make test KATA=04c        Stuck? make hint KATA=04c
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace kata {

class Pool;

namespace detail {

// What a task leaves for its future. Guarded by the pool's mutex.
template <typename T>
struct Outcome {
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  bool done = false;
  std::optional<Stored> value;
  std::exception_ptr error;
};

}  // namespace detail

// The result of one submitted task. get() once, and before the pool is destroyed.
template <typename T>
class TaskFuture {
 public:
  // Waits until the task has run, then returns its result or throws its exception. Called on
  // one of the pool's own workers, it runs queued tasks while it waits.
  T get();

 private:
  friend class Pool;
  TaskFuture(Pool& pool, std::shared_ptr<detail::Outcome<T>> outcome)
      : pool_(&pool), outcome_(std::move(outcome)) {}

  Pool* pool_;
  std::shared_ptr<detail::Outcome<T>> outcome_;
};

class Pool {
 public:
  explicit Pool(std::size_t workers) {
    if (workers == 0) throw std::invalid_argument("a Pool needs at least one worker");
    workers_.reserve(workers);
    try {
      for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
    } catch (...) {  // no more threads to be had: stop the ones already started
      shut_down();
      throw;
    }
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs every queued task (also those that running tasks still submit), then joins.
  ~Pool() { shut_down(); }

  // Queues fn() to run on a worker.
  template <typename Fn>
  auto submit(Fn fn) -> TaskFuture<std::invoke_result_t<Fn&>> {
    using T = std::invoke_result_t<Fn&>;
    auto outcome = std::make_shared<detail::Outcome<T>>();
    // std::function copies what it holds; a shared_ptr lets move-only callables in too.
    auto callable = std::make_shared<Fn>(std::move(fn));
    Job job = [this, outcome, callable] {
      std::optional<typename detail::Outcome<T>::Stored> value;
      std::exception_ptr error;
      try {
        if constexpr (std::is_void_v<T>) {
          (*callable)();
          value.emplace();
        } else {
          value.emplace((*callable)());
        }
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        outcome->value = std::move(value);
        outcome->error = error;
        outcome->done = true;
      }
      progress_.notify_all();
    };
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(job));
    }
    work_available_.notify_one();
    return TaskFuture<T>(*this, std::move(outcome));
  }

  std::size_t size() const { return workers_.size(); }

 private:
  template <typename T>
  friend class TaskFuture;
  using Job = std::function<void()>;

  void work() {
    // TODO: get() will have to tell this pool's own workers from every other thread (the
    //       caller's, another pool's workers). What could a worker leave behind, before it
    //       starts taking tasks, that says which pool it works for?
    std::unique_lock lock(mutex_);
    for (;;) {
      work_available_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and nothing left to do
      run_next(lock);
    }
  }

  // Takes the first queued task and runs it with the mutex unlocked. `lock` holds mutex_ and
  // the queue is not empty; returns with the mutex held again.
  void run_next(std::unique_lock<std::mutex>& lock) {
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    job();          // stores the result or the exception; never throws
    job = nullptr;  // what the task captured is released outside the lock
    lock.lock();
  }

  void shut_down() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    work_available_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_available_;  // idle workers wait here
  std::condition_variable progress_;        // get() waits here: a task finished
  std::deque<Job> queue_;
  bool closing_ = false;
  std::vector<std::thread> workers_;  // last member: started after the ones they use exist
};

template <typename T>
T TaskFuture<T>::get() {
  std::unique_lock lock(pool_->mutex_);
  // TODO: inside a task, this puts a worker to sleep until the result is ready. When the task
  //       it waits for is still queued, and every worker waits like this, who is left to run
  //       it? What else could one of this pool's workers do while its result is not ready,
  //       and what should wake it when it has nothing to do?
  pool_->progress_.wait(lock, [this] { return outcome_->done; });
  lock.unlock();  // done is set: nothing writes the outcome any more
  if (outcome_->error) std::rethrow_exception(outcome_->error);
  if constexpr (!std::is_void_v<T>) return std::move(*outcome_->value);
}

}  // namespace kata
