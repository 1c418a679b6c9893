// Kata 03a · A thread pool: workers that sleep, close that drains, join
// Lesson: lessons/03-thread-pools/README.md#the-worker-loop
//
// ThreadPool(n) starts n worker threads that take tasks from a queue and run them: Python's
// ThreadPool(n) with apply_async(task, error_callback=on_error). Make it behave:
//   - an idle worker sleeps until there is work (it does not ask the queue again and again);
//   - close() refuses new tasks (submit throws std::logic_error) but every task already queued
//     still runs; join() waits until the workers have finished them; ~ThreadPool() does both;
//   - a task that throws hands its exception to its on_error and the worker carries on.
//
// Grade it: make test KATA=03a        Stuck? make hint KATA=03a
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace kata {

class ThreadPool {
 public:
  using Task = std::function<void()>;
  using ErrorHandler = std::function<void(std::exception_ptr)>;

  explicit ThreadPool(std::size_t workers) {
    if (workers == 0) throw std::invalid_argument("a ThreadPool needs at least one worker");
    for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ~ThreadPool() {
    close();
    join();
  }

  // Queues task to run on a worker. If it throws, on_error (when given) is called with the
  // exception, on that worker. Throws std::logic_error once the pool is closed.
  void submit(Task task, ErrorHandler on_error = {}) {
    std::lock_guard lock(mutex_);
    // TODO: Python says "Pool not running" here once the pool is closed. What happens now?
    queue_.push_back({std::move(task), std::move(on_error)});
  }

  // No more submissions; the workers finish what is queued, then end. Returns at once.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

  // Waits until every worker has ended. Like Python, refuses to wait on an open pool: its
  // workers would wait for more work forever.
  void join() {
    {
      std::lock_guard lock(mutex_);
      if (!closed_) throw std::logic_error("join() before close(): the pool is still running");
    }
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

  std::size_t size() const { return workers_.size(); }

 private:
  struct Job {
    Task task;
    ErrorHandler on_error;
  };

  void work() {
    for (;;) {
      Job job;
      {
        std::lock_guard lock(mutex_);
        // TODO: the worker leaves as soon as the pool is closed. What about the queued tasks?
        if (closed_) return;
        if (!queue_.empty()) {
          job = std::move(queue_.front());
          queue_.pop_front();
        }
      }
      if (job.task) {
        // TODO: what happens to an exception that leaves a thread's function?
        job.task();
      } else {
        // TODO: nothing to do, so the worker asks again at once, and again, and again: an idle
        //       pool keeps every core busy. Can it sleep until a task or close() arrives?
        std::this_thread::yield();
      }
    }
  }

  std::mutex mutex_;
  std::deque<Job> queue_;
  bool closed_ = false;
  std::vector<std::thread> workers_;  // last member: started after the ones they use exist
};

}  // namespace kata
