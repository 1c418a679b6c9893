// Tests for kata 04a: an Executor of n workers (Python's ThreadPoolExecutor) whose submit(fn,
// args...) returns a std::future of fn's result type, for move-only functions and arguments
// too; an exception travels to get() with its type; map returns results in input order;
// shutdown(wait, cancel_futures) refuses new tasks, cancels queued ones on request, lets a running
// one finish, and waits only when asked; the destructor runs every queued task; a task is
// released as soon as it has run.
//
// Tasks that must be running while the test looks are held (Held: they wait on a future the
// test fulfils, and give up after a few seconds, so a broken executor cannot hang a test). A
// shutdown() that waits for workers shows itself without a timer: the thread that called it is
// seen in the kernel joining the worker of a held task (testkit::waits_to_join). Exceptions
// are described by testkit::describe_exception: TaskFailed("task 1 failed").
//
// What an exception thrown on a worker says (its what()) is read only after the workers have
// been joined. Whoever drops the last std::exception_ptr to it frees it, and that count lives
// in the compiled part of libstdc++, which ThreadSanitizer does not see: a worker that frees
// the exception after the test has read it looks like a race to it, although it is none.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "executor.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "testkit/under_test.hpp"

namespace {

using namespace std::chrono_literals;

class Executor : public testkit::LeakCheckedTest {};

constexpr auto kPatience = 5s;  // how long a held task waits for the test before it gives up

constexpr const char* kHangCauses =
    "Is a worker asleep that nobody wakes (does shutdown() wake every sleeping worker?), or does "
    "a worker hold the mutex while it runs a task?";

constexpr const char* kTaskNeverStarted =
    "a task submitted to an idle executor did not start within 3 s: is a worker asleep although "
    "a task is queued?";

constexpr const char* kNotReady =
    "was not ready 5 s after it was submitted: does a worker take the task, run it and hand "
    "what it returned to the promise?";

// The exception the tests' tasks throw: a type of our own, to check that the original arrives.
class TaskFailed : public std::runtime_error {
 public:
  explicit TaskFailed(int task) : std::runtime_error("task " + std::to_string(task) + " failed") {}
};

// How a future ended: the exception get() threw, or null if it returned a value.
template <typename T>
std::exception_ptr error_of(std::future<T>& future) {
  try {
    future.get();
    return nullptr;
  } catch (...) {
    return std::current_exception();
  }
}

// True once the future is ready; false if it is not within 5 s.
template <typename T>
bool ready(std::future<T>& future) {
  return future.wait_for(5s) == std::future_status::ready;
}

template <typename T>
bool ready_now(std::future<T>& future) {
  return future.wait_for(0s) == std::future_status::ready;
}

// A task body that holds its worker until the test lets it go, and says which thread it runs
// on. Every task that calls hold() on the same Held is let go at once.
class Held {
 public:
  int hold(int value) {
    worker_ = pthread_self();
    started_ = true;
    opened_.wait_for(kPatience);
    return value;
  }
  // Waits (at most 3 s) until a task is held.
  bool started() const {
    return testkit::eventually([&] { return started_.load(); }, 3s);
  }
  void release() {
    std::call_once(released_, [&] { open_.set_value(); });
  }
  // The thread of the latest task held (valid once started() is true).
  pthread_t worker() const { return worker_.load(); }

 private:
  std::promise<void> open_;
  std::shared_future<void> opened_ = open_.get_future().share();
  std::once_flag released_;
  std::atomic<bool> started_{false};
  std::atomic<pthread_t> worker_{};
};

// The executor under test, destroyed under a deadline (testkit::UnderTest), its held tasks let
// go first, also when an ASSERT ends a test early.
class ExecutorUnderTest : public testkit::UnderTest<kata::Executor> {
 public:
  explicit ExecutorUnderTest(std::size_t workers)
      : UnderTest({5s, "~Executor()", kHangCauses}, workers) {}
  ~ExecutorUnderTest() {
    for (const auto& held : holds_) held->release();
  }

  // A new Held, let go at the latest when the test ends.
  std::shared_ptr<Held> hold() { return holds_.emplace_back(std::make_shared<Held>()); }

 private:
  std::vector<std::shared_ptr<Held>> holds_;
};

// A thread that calls shutdown(wait, cancel_futures) on its own, so the test can watch it.
class ShutdownCaller {
 public:
  ShutdownCaller(kata::Executor& executor, bool wait, bool cancel_futures)
      : thread_([this, &executor, wait, cancel_futures] {
          tid_ = testkit::this_thread_tid();
          executor.shutdown(wait, cancel_futures);
          returned_ = true;
        }) {}
  ~ShutdownCaller() {
    if (thread_.joinable()) thread_.join();
  }

  // Waits (at most 3 s) until shutdown() has returned (true) or its thread is seen joining
  // `worker` (false).
  bool returns_before_joining(pthread_t worker) {
    return testkit::eventually(
               [&] {
                 const pid_t tid = tid_.load();
                 return returned_.load() || (tid != 0 && testkit::waits_to_join(tid, worker));
               },
               3s) &&
           returned_.load();
  }
  bool returned() const { return returned_.load(); }
  bool seen_joining(pthread_t worker) const {
    const pid_t tid = tid_.load();
    return tid != 0 && testkit::waits_to_join(tid, worker);
  }
  void join(const std::string& what) {
    testkit::finishes_within(
        5s, what, [&] { thread_.join(); }, kHangCauses);
  }

 private:
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> returned_{false};
  std::thread thread_;  // last member: started after the ones it uses exist
};

// "1 copy", "2 copies".
std::string copies(long n) { return n == 1 ? "1 copy" : std::to_string(n) + " copies"; }

int twice(int x) { return 2 * x; }

struct Account {
  int balance;
  int after(int deposit) const { return balance + deposit; }
};

// ---- submit and its futures ------------------------------------------------------------------

TEST_F(Executor, SubmitReturnsAFutureOfWhatTheFunctionReturns) {
  std::atomic<bool> ran{false};  // outlives the executor, which may still run the task
  ExecutorUnderTest executor(2);
  auto product = executor->submit([](int a, int b) { return a * b; }, 6, 7);
  auto greeting =
      executor->submit([](const std::string& name) { return "hello " + name; }, std::string("ada"));
  auto doubled = executor->submit(twice, 21);
  auto balance = executor->submit(&Account::after, Account{40}, 2);  // like std::thread
  auto done = executor->submit([&ran] { ran = true; });

  static_assert(std::is_same_v<decltype(product), std::future<int>>);
  static_assert(std::is_same_v<decltype(greeting), std::future<std::string>>);
  static_assert(std::is_same_v<decltype(balance), std::future<int>>);
  static_assert(std::is_same_v<decltype(done), std::future<void>>);

  ASSERT_TRUE(ready(product)) << "the future of a task returning 6 * 7 " << kNotReady;
  EXPECT_EQ(product.get(), 42);
  ASSERT_TRUE(ready(greeting)) << "the future of a task returning a std::string " << kNotReady;
  EXPECT_EQ(greeting.get(), "hello ada");
  ASSERT_TRUE(ready(doubled)) << "the future of a plain function's call " << kNotReady;
  EXPECT_EQ(doubled.get(), 42);
  ASSERT_TRUE(ready(balance)) << "the future of a member function's call " << kNotReady;
  EXPECT_EQ(balance.get(), 42);
  ASSERT_TRUE(ready(done)) << "the future of a task that returns nothing (void) " << kNotReady;
  const std::exception_ptr error = error_of(done);
  EXPECT_FALSE(error) << "get() on the future of a void task that returned normally threw "
                      << testkit::describe_exception(error)
                      << ": is the promise of a void task fulfilled when the call returns?";
  EXPECT_TRUE(ran.load()) << "the future of a void task was ready, but the task had not run";
}

TEST_F(Executor, SubmitTakesMoveOnlyFunctionsArgumentsAndResults) {
  ExecutorUnderTest executor(2);
  // A lambda that owns a std::unique_ptr can be moved but not copied, like its argument.
  auto owner = [base = std::make_unique<int>(40)](std::unique_ptr<int> add) {
    return *base + *add;
  };
  auto sum = executor->submit(std::move(owner), std::make_unique<int>(2));
  auto boxed = executor->submit([](int x) { return std::make_unique<int>(x); }, 7);
  auto taken =
      executor->submit([](std::unique_ptr<int>&& p) { return *p; }, std::make_unique<int>(3));
  std::promise<int> promise;
  std::future<int> fulfilled = promise.get_future();
  auto setter = executor->submit([](std::promise<int> p) { p.set_value(9); }, std::move(promise));

  static_assert(std::is_same_v<decltype(sum), std::future<int>>);
  static_assert(std::is_same_v<decltype(boxed), std::future<std::unique_ptr<int>>>);
  static_assert(std::is_same_v<decltype(setter), std::future<void>>);

  ASSERT_TRUE(ready(sum)) << "the future of a move-only lambda's call " << kNotReady;
  EXPECT_EQ(sum.get(), 42) << "a lambda owning 40, given a std::unique_ptr to 2, should give 42";
  ASSERT_TRUE(ready(boxed)) << "the future of a task returning a std::unique_ptr " << kNotReady;
  const std::unique_ptr<int> box = boxed.get();
  ASSERT_TRUE(box != nullptr) << "a task's std::unique_ptr result arrived empty";
  EXPECT_EQ(*box, 7);
  ASSERT_TRUE(ready(taken)) << "the future of a task taking a std::unique_ptr&& " << kNotReady;
  EXPECT_EQ(taken.get(), 3);
  ASSERT_TRUE(ready(setter)) << "the future of a task given a std::promise " << kNotReady;
  ASSERT_TRUE(ready(fulfilled)) << "a task was given a std::promise and set it, but its future "
                                << kNotReady;
  EXPECT_EQ(fulfilled.get(), 9);
}

TEST_F(Executor, ArgumentsAreCopiedIntoTheTaskAsStdThreadDoes) {
  // The only worker is held, so the task below is still queued when the caller changes the
  // string it passed. (The caller's variables outlive the executor, which may still run it.)
  const auto echo = [](const std::string& text) { return text; };
  std::string name = "before";
  int counter = 0;
  ExecutorUnderTest executor(1);
  auto held = executor.hold();
  auto busy = executor->submit([held] { return held->hold(0); });
  ASSERT_TRUE(held->started()) << kTaskNeverStarted;

  auto copied = executor->submit(echo, name);
  auto referenced = executor->submit([](int& c) { c = 5; }, std::ref(counter));
  name = "after";
  held->release();

  ASSERT_TRUE(ready(copied)) << "the future of a task queued behind a held one " << kNotReady;
  const std::string seen = copied.get();
  EXPECT_EQ(seen, "before")
      << "a task was submitted with a std::string holding \"before\"; the caller then changed "
         "its string to \"after\" before the task ran, and the task saw \""
      << seen
      << "\". The task must own a copy of its arguments, as std::thread does: does it keep a "
         "reference to the caller's?";
  ASSERT_TRUE(ready(referenced)) << "the future of a task given std::ref(counter) " << kNotReady;
  referenced.get();
  EXPECT_EQ(counter, 5) << "a task given std::ref(counter) set it to 5, but the caller's counter "
                           "is "
                        << counter << ": was the std::reference_wrapper turned into a copy?";
}

// ---- the workers -----------------------------------------------------------------------------

TEST_F(Executor, RunsAsManyTasksAtOnceAsItHasWorkers) {
  auto together = std::make_shared<testkit::TimedBarrier>(3, 3s);
  auto probe = std::make_shared<testkit::InflightProbe>();
  ExecutorUnderTest executor(3);
  std::vector<std::future<bool>> met;
  for (int i = 0; i < 3; ++i) {
    met.push_back(executor->submit([together, probe] {
      auto in = probe->enter();
      return together->arrive_and_wait();  // true when all 3 are here; gives up after 3 s
    }));
  }
  for (auto& future : met) ASSERT_TRUE(ready(future)) << "the future of a task " << kNotReady;
  EXPECT_TRUE(together->completed())
      << "each of 3 tasks waits (up to 3 s) until all 3 run at the same time on an executor of "
         "3 workers, but at most "
      << probe->max_in_flight()
      << " ever ran together: does the executor start fewer workers than asked, or does a "
         "worker keep the queue's mutex locked while it runs a task?";
}

TEST_F(Executor, NeverUsesMoreThreadsThanItsWorkers) {
  EXPECT_THROW(kata::Executor(0), std::invalid_argument)
      << "Executor(0) would never run a task; Python raises ValueError('max_workers must be "
         "greater than 0')";
  constexpr int kWorkers = 3;
  constexpr int kTasks = 2 * kWorkers;
  auto probe = std::make_shared<testkit::InflightProbe>();
  const int before = testkit::thread_count();
  ExecutorUnderTest executor(kWorkers);
  auto held = executor.hold();
  std::vector<std::future<int>> futures;
  for (int i = 0; i < kTasks; ++i) {
    futures.push_back(executor->submit([held, probe, i] {
      auto in = probe->enter();
      return held->hold(i);
    }));
  }
  // 3 tasks run and are held; the other 3 must still be queued.
  EXPECT_TRUE(testkit::eventually([&] { return probe->now() >= kWorkers; }, 3s))
      << "6 tasks were submitted to an executor of 3 workers, but only " << probe->now()
      << " started within 3 s: does every worker take tasks from the queue?";
  const int threads = testkit::thread_count() - before;
  held->release();
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(ready(futures[i])) << "the future of task " << i << " of 6 " << kNotReady;
    EXPECT_EQ(futures[i].get(), i);
  }
  EXPECT_LE(threads, kWorkers)
      << "with 6 tasks submitted, an executor of 3 workers had added " << threads
      << " threads to the process: does submit() start a thread of its own for a task?";
  EXPECT_LE(probe->max_in_flight(), kWorkers)
      << probe->max_in_flight()
      << " tasks ran at the same time on an executor of 3 workers: does something other than "
         "the 3 workers run tasks?";
}

// ---- exceptions ------------------------------------------------------------------------------

// An exception that leaves a worker's function ends the program before the test can report
// anything; testkit::TerminateNote says first what that means here.
std::string explain_escaped(std::exception_ptr escaped) {
  if (!escaped) return "";
  return "A task threw " + testkit::describe_exception(escaped) +
         ", and it ended the program on the worker thread instead of reaching the future's "
         "get(). Does the worker catch only std::exception, or nothing at all?";
}

TEST_F(Executor, AnExceptionReachesGetWithItsTypeAndTheWorkerGoesOn) {
  testkit::TerminateNote note(explain_escaped);
  ExecutorUnderTest executor(1);  // one worker: the task after the throwing ones needs it alive
  auto failed = executor->submit([]() -> int { throw TaskFailed(1); });
  auto failed_void = executor->submit([] { throw TaskFailed(2); });
  auto odd = executor->submit([]() -> int { throw 7; });  // C++ can throw any type
  auto later = executor->submit([] { return 42; });

  ASSERT_TRUE(ready(failed)) << "the future of a task that threw " << kNotReady;
  ASSERT_TRUE(ready(failed_void)) << "the future of a void task that threw " << kNotReady;
  ASSERT_TRUE(ready(odd)) << "the future of a task that threw an int " << kNotReady;
  const std::exception_ptr error = error_of(failed);
  const std::exception_ptr void_error = error_of(failed_void);
  const std::exception_ptr odd_error = error_of(odd);
  ASSERT_TRUE(ready(later))
      << "three tasks threw, and the future of the task queued after them, on the executor's "
         "only worker, "
      << kNotReady << " Does the exception end the worker's loop?";
  EXPECT_EQ(later.get(), 42);

  executor.destroy();  // the exceptions are read once the worker has ended (see the top)
  const std::string got = testkit::describe_exception(error);
  EXPECT_EQ(got, "TaskFailed(\"task 1 failed\")")
      << "a task threw TaskFailed(\"task 1 failed\"), and get() threw " << got
      << (testkit::holds<std::future_error>(error)
              ? ": the promise was destroyed without a value or an exception. Was the task's "
                "exception caught and dropped?"
              : ": the caller cannot catch what the task threw. Is the original passed on with "
                "std::current_exception(), or copied into a new exception?");
  EXPECT_EQ(testkit::describe_exception(void_error), "TaskFailed(\"task 2 failed\")")
      << "a task returning void threw TaskFailed(\"task 2 failed\"); get() gave "
      << testkit::describe_exception(void_error)
      << (void_error ? ": is the exception passed on as it was thrown?"
                     : ": does a void task hand on its exception too?");
  EXPECT_EQ(testkit::describe_exception(odd_error), "int(7)")
      << "a task threw the int 7 (not a std::exception); get() gave "
      << testkit::describe_exception(odd_error) << ": is only std::exception caught and passed on?";
}

// ---- map ---------------------------------------------------------------------------------------

TEST_F(Executor, MapReturnsResultsInInputOrder) {
  // The call for input 0 returns last: it waits until the other 7 have returned (unless it
  // runs on the caller's thread, where nothing else could run meanwhile).
  struct Shared {
    std::atomic<int> finished{0};
    std::atomic<pid_t> caller{0};  // the thread that calls map
  };
  auto shared = std::make_shared<Shared>();
  auto label = [shared](int x) {
    if (x == 0 && testkit::this_thread_tid() != shared->caller.load()) {
      testkit::eventually([&] { return shared->finished.load() == 7; }, 3s);
    }
    shared->finished.fetch_add(1);
    return "#" + std::to_string(x);
  };
  ExecutorUnderTest executor(2);
  const std::vector<std::string> results = testkit::finishes_within(
      10s, "map() of 8 calls",
      [&] {
        shared->caller = testkit::this_thread_tid();
        return executor->map(label, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
      },
      kHangCauses);
  const std::vector<std::string> expected{"#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7"};
  EXPECT_EQ(results, expected)
      << "map over the inputs 0..7 returned " << testkit::to_text(results)
      << ", and the call for input 0 was the last to return: are the results kept in the "
         "order the calls finish instead of the order of the inputs?";

  const std::vector<std::string> none = testkit::finishes_within(
      5s, "map() of no inputs",
      [&] {
        shared->caller = testkit::this_thread_tid();
        return executor->map(label, std::vector<int>{});
      },
      kHangCauses);
  EXPECT_TRUE(none.empty()) << "map over no inputs returned " << testkit::to_text(none);
}

TEST_F(Executor, MapRunsTheCallsOnTheWorkersAtTheSameTime) {
  struct Shared {
    testkit::TimedBarrier together{2, 3s};
    std::mutex mutex;
    int on_caller = 0;
    std::atomic<pid_t> caller{0};  // the thread that calls map
  };
  auto shared = std::make_shared<Shared>();
  auto meet = [shared](int x) {
    if (testkit::this_thread_tid() == shared->caller.load()) {
      std::lock_guard lock(shared->mutex);
      ++shared->on_caller;
    } else {
      shared->together.arrive_and_wait();  // gives up after 3 s
    }
    return x;
  };
  ExecutorUnderTest executor(2);
  const std::vector<int> results = testkit::finishes_within(
      10s, "map() of 2 calls",
      [&] {
        shared->caller = testkit::this_thread_tid();
        return executor->map(meet, std::vector<int>{1, 2});
      },
      kHangCauses);
  EXPECT_EQ(results, (std::vector<int>{1, 2})) << "map returned " << testkit::to_text(results);
  std::lock_guard lock(shared->mutex);
  EXPECT_EQ(shared->on_caller, 0)
      << shared->on_caller
      << " of 2 calls of map ran on the thread that called map, while the 2 workers sat idle: "
         "does map call fn itself, one input after another?";
  if (shared->on_caller == 0) {
    EXPECT_TRUE(shared->together.completed())
        << "each of the 2 calls of map waits (up to 3 s) until both run at the same time on an "
           "executor of 2 workers, but they never did: does map wait for one call's result "
           "before it submits the next?";
  }
}

TEST_F(Executor, MapRethrowsTheExceptionOfTheEarliestInputThatThrew) {
  // The calls for inputs 1 and 3 throw, and 3 throws first: the call for 1 waits until the
  // call for 3 is about to throw (unless it runs on the caller's thread).
  struct Shared {
    std::atomic<bool> three_throws{false};
    std::atomic<pid_t> caller{0};  // the thread that calls map
  };
  auto shared = std::make_shared<Shared>();
  auto check = [shared](int x) {
    if (x == 3) {
      shared->three_throws = true;
      throw std::out_of_range("input 3 is out of range");
    }
    if (x == 1) {
      if (testkit::this_thread_tid() != shared->caller.load()) {
        testkit::eventually([&] { return shared->three_throws.load(); }, 3s);
      }
      throw TaskFailed(1);
    }
    return x;
  };
  ExecutorUnderTest executor(2);
  std::exception_ptr error;
  testkit::finishes_within(
      10s, "map() of 4 calls, two of which throw",
      [&] {
        try {
          shared->caller = testkit::this_thread_tid();
          executor->map(check, std::vector<int>{0, 1, 2, 3});
        } catch (...) {
          error = std::current_exception();
        }
      },
      kHangCauses);
  executor.destroy();  // the exception is read once the workers have ended (see the top)
  const std::string caught = testkit::describe_exception(error);
  EXPECT_EQ(caught, "TaskFailed(\"task 1 failed\")")
      << "fn threw TaskFailed for input 1 and std::out_of_range for input 3 (first in time); "
         "map let through "
      << caught
      << ". The caller gets the exception of the earliest input that threw, with its type, as "
         "Python's map raises it when that result's turn comes: does map keep the first "
         "exception to happen?";
}

// ---- shutdown ----------------------------------------------------------------------------------

TEST_F(Executor, SubmitAfterShutdownThrows) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  ExecutorUnderTest executor(2);
  testkit::finishes_within(
      5s, "shutdown() of an idle executor", [&] { executor->shutdown(); }, kHangCauses);
  try {
    executor->submit([ran] { ran->fetch_add(1); });
    ADD_FAILURE() << "submit() after shutdown() returned a future. Python raises "
                     "RuntimeError('cannot schedule new futures after shutdown'): no worker is "
                     "left to run the task, and whoever waits on its future would wait forever. "
                     "Does submit() look whether the executor was shut down?";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("shutdown"), std::string::npos)
        << "submit() after shutdown() threw std::logic_error(\"" << e.what()
        << "\"), which does not say why: does its message name shutdown?";
  }
  EXPECT_THROW(executor->map([](int x) { return x; }, std::vector<int>{1, 2}), std::logic_error)
      << "map() after shutdown() did not throw std::logic_error: does it run the calls without "
         "the executor?";
  EXPECT_EQ(ran->load(), 0) << "a task submitted after shutdown() ran anyway";
}

TEST_F(Executor, ShutdownCancelsQueuedTasksAndFinishesTheRunningOne) {
  // shutdown(wait=true, cancel_futures=true) comes while 1 task runs (held) and 3 are queued.
  // The queued futures must fail at once, while the running task is still held: the test lets
  // it go once shutdown() is seen joining the worker (by then the queued tasks must have been
  // cancelled) or once it has returned (too early).
  auto token = std::make_shared<int>(0);
  auto ran = std::make_shared<std::atomic<int>>(0);
  ExecutorUnderTest executor(1);
  auto held = executor.hold();
  auto running = executor->submit([held] { return held->hold(42); });
  std::vector<std::future<int>> queued;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(executor->submit([token, ran, i] {
      ran->fetch_add(1);
      return i;
    }));
  }
  ASSERT_TRUE(held->started()) << kTaskNeverStarted;

  auto cancelled = [&] {
    int n = 0;
    for (auto& future : queued) n += ready_now(future) ? 1 : 0;
    return n;
  };
  ShutdownCaller caller(*executor, /*wait=*/true, /*cancel_futures=*/true);
  const bool returned_while_running = caller.returns_before_joining(held->worker());
  const int cancelled_while_running = cancelled();
  held->release();
  caller.join("shutdown(wait=true, cancel_futures=true) after the running task was let go");

  EXPECT_EQ(cancelled_while_running, 3)
      << "shutdown(cancel_futures=true) came while 1 task ran and 3 waited in the queue; while "
         "the running task was still held, "
      << cancelled_while_running
      << " of the 3 queued futures were ready: does shutdown() leave the queued tasks for the "
         "workers to run?";
  EXPECT_FALSE(returned_while_running)
      << "shutdown(wait=true, cancel_futures=true) returned while a task was still running: "
         "does it wait for the workers only when cancel_futures is false?";
  ASSERT_TRUE(ready(running)) << "the future of the task that was running at shutdown() "
                              << kNotReady;
  const std::exception_ptr running_error = error_of(running);
  EXPECT_FALSE(running_error)
      << "the task that was already running when shutdown(cancel_futures=true) came ended with "
      << testkit::describe_exception(running_error)
      << " instead of its value: a running task cannot be stopped, it finishes; is its promise "
         "failed too?";
  for (std::size_t i = 0; i < queued.size(); ++i) {
    ASSERT_TRUE(ready(queued[i])) << "the future of a cancelled task " << kNotReady;
    const std::exception_ptr error = error_of(queued[i]);
    const bool cancelled_as_such = testkit::holds<kata::CancelledError>(error);
    EXPECT_TRUE(cancelled_as_such)
        << "queued task " << i << "'s future ended with " << testkit::describe_exception(error)
        << " instead of kata::CancelledError"
        << (testkit::holds<std::future_error>(error)
                ? ": was the task thrown away without failing its promise?"
                : ": did the task run although it was cancelled?");
    if (!cancelled_as_such) break;  // the others went the same way
  }
  EXPECT_EQ(ran->load(), 0) << ran->load()
                            << " of 3 tasks that were queued when shutdown(cancel_futures=true) "
                               "came ran anyway";
  EXPECT_TRUE(testkit::eventually([&] { return token.use_count() == 1; }, 2s))
      << "the cancelled tasks will never run, but the executor still holds "
      << copies(token.use_count() - 1) << " of what they captured: are they kept after use?";
}

TEST_F(Executor, ShutdownWithoutWaitReturnsWhileATaskStillRuns) {
  ExecutorUnderTest executor(1);
  auto held = executor.hold();
  auto running = executor->submit([held] { return held->hold(1); });
  auto queued = executor->submit([] { return 2; });
  ASSERT_TRUE(held->started()) << kTaskNeverStarted;

  ShutdownCaller caller(*executor, /*wait=*/false, /*cancel_futures=*/false);
  const bool returned = caller.returns_before_joining(held->worker());
  const bool joining = !returned && caller.seen_joining(held->worker());
  held->release();
  caller.join("shutdown(wait=false) after the running task was let go");

  EXPECT_TRUE(returned) << (joining ? "shutdown(wait=false) was seen joining the worker of a task "
                                      "that was still running"
                                    : "shutdown(wait=false) had not returned 3 s after it was "
                                      "called, while a task was still running")
                        << ": it should return at once (the destructor joins the workers "
                           "later). Does it wait for the workers whatever `wait` says?";
  ASSERT_TRUE(ready(running)) << "the future of the task that ran during shutdown(wait=false) "
                              << kNotReady;
  EXPECT_EQ(running.get(), 1);
  ASSERT_TRUE(ready(queued))
      << "the future of a task queued before shutdown(wait=false) " << kNotReady
      << " Without cancel_futures, the workers still run what was queued: does shutdown() "
         "drop the queue?";
  const std::exception_ptr error = error_of(queued);
  EXPECT_FALSE(error) << "a task queued before shutdown(wait=false, cancel_futures=false) ended "
                         "with "
                      << testkit::describe_exception(error)
                      << " instead of running: is it cancelled anyway?";
}

TEST_F(Executor, DestructorRunsEveryQueuedTask) {
  // The destructor comes while 1 task runs (held) and 20 are queued; the held task is let go
  // once the destructor is seen joining its worker, so the 20 are still queued when it begins.
  auto ran = std::make_shared<std::atomic<int>>(0);
  ExecutorUnderTest executor(1);
  auto held = executor.hold();
  auto first = executor->submit([held, ran] {
    ran->fetch_add(1);
    return held->hold(0);
  });
  std::vector<std::future<int>> queued;
  for (int i = 1; i <= 20; ++i) {
    queued.push_back(executor->submit([ran, i] {
      ran->fetch_add(1);
      return i;
    }));
  }
  ASSERT_TRUE(held->started()) << kTaskNeverStarted;

  std::thread destroying(
      [&] { executor.destroy("~Executor() with 1 task running and 20 queued"); });
  testkit::eventually(
      [&] {
        const pid_t destroyer = executor.destroyer();
        return destroyer != 0 && testkit::waits_to_join(destroyer, held->worker());
      },
      3s);
  held->release();
  destroying.join();

  EXPECT_EQ(ran->load(), 21) << "the executor was destroyed while 1 task ran and 20 were "
                                "queued; when the destructor returned, "
                             << ran->load()
                             << " of 21 had run: does the destructor drop or cancel the queued "
                                "tasks? ~Executor() is Python's shutdown(wait=True)";
  for (std::size_t i = 0; i < queued.size(); ++i) {
    ASSERT_TRUE(ready_now(queued[i]))
        << "after the destructor returned, the future of queued task " << (i + 1)
        << " was not ready: was the task dropped with its promise still alive somewhere?";
    const std::exception_ptr error = error_of(queued[i]);
    ASSERT_FALSE(error) << "queued task " << (i + 1) << " ended with "
                        << testkit::describe_exception(error)
                        << " when the executor was destroyed: does the destructor cancel the "
                           "queue?";
  }
}

// ---- what the executor keeps -------------------------------------------------------------------

TEST_F(Executor, ATaskAndWhatItOwnsAreReleasedOnceItHasRun) {
  // A task's function captures `token` and gets it as an argument too; once the task has run,
  // the executor must let go of both, while it goes on living and waiting for work.
  auto token = std::make_shared<int>(21);
  ExecutorUnderTest executor(2);
  auto sum = executor->submit([token](std::shared_ptr<int> arg) { return *token + *arg; }, token);
  ASSERT_TRUE(ready(sum)) << "the future of a task " << kNotReady;
  EXPECT_EQ(sum.get(), 42);
  EXPECT_TRUE(testkit::eventually([&] { return token.use_count() == 1; }, 2s))
      << "a task has run and its future has given its result, but 2 s later the executor still "
         "holds "
      << copies(token.use_count() - 1)
      << " of what the task owned (its function's captures and its arguments). Whatever "
         "a task owns (a buffer, a socket, a lock) stays alive as long as the executor keeps "
         "the task: does a worker keep its last task until the next one replaces it?";

  auto thrown =
      executor->submit([token](std::shared_ptr<int> arg) -> int { throw TaskFailed(*arg); }, token);
  ASSERT_TRUE(ready(thrown)) << "the future of a task that threw " << kNotReady;
  EXPECT_TRUE(testkit::eventually([&] { return token.use_count() == 1; }, 2s))
      << "a task threw and its future holds the exception, but the executor still holds "
      << copies(token.use_count() - 1) << " of what the task owned: are they kept after use?";
}

}  // namespace
