// Kata 04a · An executor: typed futures from submit, map, and a shutdown that can cancel
// Lesson: lessons/04-executors-and-futures/README.md#submit-and-typed-futures
//
// Executor(n) is Python's concurrent.futures.ThreadPoolExecutor(max_workers=n). Make it behave:
//   - submit(fn, args...) runs fn(args...) on a worker and returns a std::future of what fn
//     returns (void too). fn and args are moved into the task, as std::thread does, so move-only
//     ones work. If fn throws, get() on the future throws that same exception, and the worker
//     goes on with the next task.
//   - map(fn, inputs) runs fn on every input on the workers and returns the results in input
//     order, or re-throws the exception of the earliest input that threw.
//   - shutdown(wait, cancel_futures) refuses new tasks (submit throws std::logic_error). With
//     cancel_futures, queued tasks never run and their futures throw kata::CancelledError; a
//     running task finishes. wait=true waits for the workers to end, wait=false returns at once.
//     ~Executor() is shutdown(true).
//
// Grade it: make test KATA=04a        Stuck? make hint KATA=04a
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace kata {

// What the future of a task that never ran throws: shutdown(cancel_futures=true) took it out of
// the queue. A std::runtime_error, not a std::logic_error: whoever waits on the future made no
// mistake (the executor was shut down under the task), and the broken promise of a future that
// was simply dropped (std::future_error) is a std::logic_error, so a catch of one base class
// never mistakes the one for the other.
class CancelledError : public std::runtime_error {
 public:
  CancelledError()
      : std::runtime_error(
            "the task was cancelled: shutdown(cancel_futures=true) came before it ran") {}
};

// What submit(fn, args...) hands back a future of: what fn returns when it is called the way
// std::thread calls it, on its own copies of fn and args, passed on as rvalues.
template <typename Fn, typename... Args>
using SubmitResult = std::invoke_result_t<std::decay_t<Fn>, std::decay_t<Args>...>;

// What map(fn, inputs) returns a vector of.
template <typename Fn, typename T>
using MapResult = std::invoke_result_t<const Fn&, const T&>;

class Executor {
 public:
  explicit Executor(std::size_t max_workers) {
    if (max_workers == 0) throw std::invalid_argument("an Executor needs at least one worker");
    workers_.reserve(max_workers);
    try {
      for (std::size_t i = 0; i < max_workers; ++i) workers_.emplace_back([this] { work(); });
    } catch (...) {  // the system ran out of threads: stop the ones already started
      shutdown(true);
      throw;
    }
  }

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Python's `with ThreadPoolExecutor(n) as executor:` ends with shutdown(wait=True): every
  // queued task still runs, then the workers are joined.
  ~Executor() { shutdown(true); }

  // Queues fn(args...) and returns the future of its result. Throws std::logic_error after
  // shutdown(), as Python raises RuntimeError('cannot schedule new futures after shutdown').
  template <typename Fn, typename... Args>
  std::future<SubmitResult<Fn, Args...>> submit(Fn&& fn, Args&&... args) {
    using R = SubmitResult<Fn, Args...>;
    std::promise<R> promise;
    std::future<R> future = promise.get_future();
    // The job owns decayed copies of fn and args (moved in when they are rvalues), and calls fn
    // with them as rvalues, once: what std::thread does with its arguments.
    Job job(std::move(promise),
            [fn = std::forward<Fn>(fn), ... args = std::forward<Args>(args)]() mutable -> R {
              return std::invoke(std::move(fn), std::move(args)...);
            });
    {
      std::lock_guard lock(mutex_);
      if (shut_down_) throw std::logic_error("cannot submit new tasks after shutdown()");
      queue_.push_back(std::move(job));
    }
    work_available_.notify_one();
    return future;
  }

  // Python's executor.map(fn, inputs), with the results gathered: one task per input, all
  // submitted before the first result is awaited. Waits for every call, then returns the
  // results in input order or re-throws the exception of the earliest input that threw.
  template <typename Fn, typename T>
  std::vector<MapResult<Fn, T>> map(Fn fn, const std::vector<T>& inputs) {
    using R = MapResult<Fn, T>;
    static_assert(!std::is_void_v<R>, "map needs a function that returns a value");
    // One fn for every call, as in Python; each task owns a copy of its input, so nothing it
    // uses lives on this stack frame.
    auto shared_fn = std::make_shared<const Fn>(std::move(fn));
    std::vector<std::future<R>> futures;
    futures.reserve(inputs.size());
    for (const T& input : inputs) {
      futures.push_back(
          submit([shared_fn](const T& x) -> R { return std::invoke(*shared_fn, x); }, input));
    }
    std::vector<R> results;
    results.reserve(inputs.size());
    std::exception_ptr first_error;
    for (std::future<R>& future : futures) {
      try {
        results.push_back(future.get());
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
    return results;
  }

  // Refuses new tasks from now on. cancel_futures: the queued tasks never run, and their futures
  // throw CancelledError (a running task cannot be stopped: it finishes). wait: returns once
  // every worker has ended; otherwise at once, and the workers end by themselves when the queue
  // is empty (the destructor joins them). May be called more than once, from any thread but the
  // executor's own workers.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    std::deque<Job> cancelled;
    {
      std::lock_guard lock(mutex_);
      shut_down_ = true;
      if (cancel_futures) cancelled.swap(queue_);
    }
    work_available_.notify_all();  // every sleeping worker must wake up to see it
    // Outside the lock: failing a promise wakes whoever waits on its future, and destroying a
    // task runs the destructors of whatever it captured, which may do anything (even submit).
    for (Job& job : cancelled) job.cancel();
    cancelled.clear();
    if (wait) {
      std::lock_guard lock(join_mutex_);  // two threads must not join the same std::thread
      for (std::thread& worker : workers_) {
        if (worker.joinable()) worker.join();
      }
    }
  }

 private:
  // One queued call with the promise of its result. The queue cannot hold a
  // std::function<void()>: std::function copies what it holds, and a std::promise (like a
  // std::unique_ptr argument or a lambda that owns one) can only be moved. C++23's
  // std::move_only_function would do; until then, by hand: a base class with virtual run() and
  // cancel(), one derived class per kind of call, owned through a std::unique_ptr.
  class Job {
   public:
    Job() = default;
    template <typename R, typename Call>
    Job(std::promise<R> promise, Call call)
        : self_(std::make_unique<Model<R, Call>>(std::move(promise), std::move(call))) {}

    // Calls the function and hands its result, or what it threw, to the future.
    void run() { self_->run(); }
    // Fails the future with CancelledError without calling the function.
    void cancel() { self_->cancel(); }

   private:
    struct Concept {
      virtual ~Concept() = default;
      virtual void run() = 0;
      virtual void cancel() = 0;
    };

    template <typename R, typename Call>
    struct Model final : Concept {
      Model(std::promise<R> p, Call c) : promise(std::move(p)), call(std::move(c)) {}

      void run() override {
        try {
          if constexpr (std::is_void_v<R>) {
            call();
            promise.set_value();
          } else {
            promise.set_value(call());
          }
        } catch (...) {  // any type: get() re-throws it as it was thrown
          promise.set_exception(std::current_exception());
        }
      }

      void cancel() override { promise.set_exception(std::make_exception_ptr(CancelledError())); }

      std::promise<R> promise;
      Call call;
    };

    std::unique_ptr<Concept> self_;
  };

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        work_available_.wait(lock, [this] { return shut_down_ || !queue_.empty(); });
        if (queue_.empty()) return;  // shut down, and nothing left to do
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job.run();  // without the lock; run() lets no exception out
      // `job` ends here, at the end of each turn: the function, its arguments and everything
      // they own are released as soon as the call is over, not kept until the next job.
    }
  }

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<Job> queue_;
  bool shut_down_ = false;
  std::mutex join_mutex_;
  std::vector<std::thread> workers_;  // last member: started after the ones they use exist
};

}  // namespace kata
