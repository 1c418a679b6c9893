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

#include <condition_variable>
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
    workers_.reserve(workers);
    try {
      for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
    } catch (...) {  // the system ran out of threads: stop the ones already started
      close();
      join();
      throw;
    }
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Python's `with ThreadPool(n) as pool:` ends with terminate(); this ends like close() and
  // join(): every queued task runs, then the workers are joined.
  ~ThreadPool() {
    close();
    join();
  }

  // Queues task to run on a worker. If it throws, on_error (when given) is called with the
  // exception, on that worker. Throws std::logic_error once the pool is closed.
  void submit(Task task, ErrorHandler on_error = {}) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) throw std::logic_error("submit() on a closed ThreadPool");
      queue_.push_back({std::move(task), std::move(on_error)});
    }
    // Notifying after the unlock is safe: the queue changed under the mutex, so a worker is
    // either before its check (and will see the task) or already waiting (and is woken).
    work_available_.notify_one();
  }

  // No more submissions; the workers finish what is queued, then end. Returns at once.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    work_available_.notify_all();  // every sleeping worker must wake up to see it
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
        std::unique_lock lock(mutex_);
        // The predicate is checked under the mutex before every sleep and after every wake-up:
        // no lost wake-up (a task queued before we got here is seen), no stolen one (another
        // worker took the task first), no spurious one.
        work_available_.wait(lock, [this] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closed, and nothing left to do
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      // Run without the lock, so the other workers (and submit) go on meanwhile.
      std::exception_ptr error;
      try {
        job.task();
      } catch (...) {  // an exception leaving a thread's function would end the program
        error = std::current_exception();
      }
      if (error && job.on_error) job.on_error(error);
      // `job` is destroyed here, at the end of each turn: the task and everything it captured
      // are released as soon as it has run, not kept until the next task replaces it.
    }
  }

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<Job> queue_;
  bool closed_ = false;
  std::vector<std::thread> workers_;  // last member: started after the ones they use exist
};

}  // namespace kata
