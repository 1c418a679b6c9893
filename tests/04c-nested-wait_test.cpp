// Tests for kata 04c: a task may wait for another task of its own pool. Recursive fib and
// quicksort, each call a task that waits for its sub-calls, finish on 2 workers, and Python's
// docs example (one worker, a task waiting for a task) finishes on 1; a worker waiting in get()
// runs queued tasks, sleeps when there are none, and wakes up for a new one; threads outside
// the pool only wait; no thread is started besides the workers; every task runs once; results
// and exceptions reach get() with their types; the destructor runs every task, then joins.
//
// A pool that deadlocks is caught by testkit::finishes_within, which ends the test with a
// TIMEOUT that says what deadlocked. Everything else is held in place by structure: a task is
// kept running (so that a worker is busy) at a testkit::TimedBarrier until the test, or another
// task, arrives there. Two tasks that meet at such a barrier ran at the same time: with one of
// them holding the first of 2 workers, the second worker ran the other one, from inside get().
// Whether a waiting worker sleeps is read from /proc (testkit::blocked_syscall: in futex, not
// running or in a sleep), and whether its wait has a time limit from testkit::CondWaitSpy.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nested_wait.hpp"
#include "testkit/cond_wait_spy.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "testkit/under_test.hpp"

namespace {

using namespace std::chrono_literals;

class NestedWait : public testkit::LeakCheckedTest {};

// How long a whole recursive computation may take before the test calls it a deadlock. On a
// working pool each one takes milliseconds (well under a second under ThreadSanitizer).
constexpr auto kDeadlock = 5s;

// How long a task held at a barrier waits for its partner before it gives up.
constexpr auto kPatience = 2s;

// The pool under test, destroyed under a deadline (testkit::UnderTest): a destructor that hangs
// becomes a TIMEOUT that says so, also when an assertion ended the test early.
class TestPool : public testkit::UnderTest<kata::Pool> {
 public:
  explicit TestPool(std::size_t workers)
      : UnderTest({8s, "~Pool()",
                   "The destructor runs what is queued and joins the workers. Is a worker asleep "
                   "that nobody wakes, or waiting in get() for a task nobody runs?"},
                  workers) {}
};

// ---- where tasks ran -------------------------------------------------------------------------

// Which threads ran a test's tasks, and the most threads the process had while they did.
class ThreadTally {
 public:
  // Called by every task. The threads are counted on each thread's first task: a thread that
  // runs tasks exists then.
  void note() {
    const pid_t tid = testkit::this_thread_tid();
    std::lock_guard lock(mutex_);
    if (tids_.insert(tid).second) most_threads_ = std::max(most_threads_, testkit::thread_count());
  }

  // Empty if the tasks ran on at most `workers` threads, none of them `caller` (the thread
  // that waited in get() from outside the pool), and the process never had more than `allowed`
  // threads while they ran; otherwise what was seen, in words.
  std::string extra_threads(int workers, int allowed, pid_t caller) const {
    std::lock_guard lock(mutex_);
    if (tids_.count(caller) > 0) {
      return "a task ran on the thread that called get() from outside the pool: only the "
             "pool's own workers run its tasks (Python's result() just waits). How does get() "
             "tell the pool's workers from other threads?";
    }
    std::string why;
    if (static_cast<int>(tids_.size()) > workers) {
      why += "the tasks ran on " + std::to_string(tids_.size()) +
             " different threads, with a pool of " + std::to_string(workers) + " workers. ";
    }
    if (most_threads_ > allowed) {
      why += "/proc/self/task counted " + std::to_string(most_threads_) +
             " threads while a task ran, " + std::to_string(most_threads_ - allowed) +
             " more than the workers and the test's own threads. ";
    }
    if (!why.empty()) {
      why +=
          "Does get() start a thread (std::thread, std::async) to run tasks, or to wait, "
          "while its result is not ready?";
    }
    return why;
  }

 private:
  mutable std::mutex mutex_;
  std::set<pid_t> tids_;
  int most_threads_ = 0;
};

// Empty if thread `tid` is asleep in futex (where a condition variable waits); otherwise what
// it was doing, in words.
std::string not_asleep(pid_t tid) {
  return testkit::why_not_asleep(
      tid, {.if_sleeping = "does get() sleep a little and look again?",
            .if_running = "does get() look at its result again and again (a loop with yield) "
                          "instead of sleeping?"});
}

// ---- recursive work: each call is a task that waits for its sub-calls -------------------------

// fib(n) where every call with n >= 2 submits fib(n-1) and fib(n-2) and waits for both. Each
// call has a number (the root 1, the sub-calls of call k are 2k and 2k+1) and counts its runs.
class RecursiveFib {
 public:
  RecursiveFib(kata::Pool& pool, int n) : pool_(pool), runs_(std::size_t{1} << n) {}

  int call(int n, std::size_t id) {
    runs_[id].fetch_add(1);
    tally_.note();
    if (n < 2) return n;
    auto smaller = pool_.submit([this, n, id] { return call(n - 1, 2 * id); });
    auto smallest = pool_.submit([this, n, id] { return call(n - 2, 2 * id + 1); });
    return smaller.get() + smallest.get();
  }

  int calls() const {
    int total = 0;
    for (const auto& runs : runs_) total += runs.load();
    return total;
  }
  std::vector<std::size_t> ran_twice() const {
    std::vector<std::size_t> ids;
    for (std::size_t id = 0; id < runs_.size(); ++id) {
      if (runs_[id].load() > 1) ids.push_back(id);
    }
    return ids;
  }
  const ThreadTally& tally() const { return tally_; }

 private:
  kata::Pool& pool_;
  std::vector<std::atomic<int>> runs_;
  ThreadTally tally_;
};

// fib(n) and the number of calls the recursion above makes for it, counted the plain way.
std::pair<int, int> fib_and_calls(int n) {
  std::vector<int> fib(static_cast<std::size_t>(n) + 2), calls(fib.size());
  fib[0] = 0;
  fib[1] = 1;
  calls[0] = calls[1] = 1;
  for (std::size_t i = 2; i < fib.size(); ++i) {
    fib[i] = fib[i - 1] + fib[i - 2];
    calls[i] = 1 + calls[i - 1] + calls[i - 2];
  }
  return {fib[static_cast<std::size_t>(n)], calls[static_cast<std::size_t>(n)]};
}

// Quicksort where every call sorts the values above its pivot itself, hands the values below to
// a task of their own, and waits for that task before it puts the pieces together.
class RecursiveQuicksort {
 public:
  explicit RecursiveQuicksort(kata::Pool& pool) : pool_(pool) {}

  std::vector<int> sort(std::vector<int> values) {
    tally_.note();
    if (values.size() <= kSmall) {
      std::sort(values.begin(), values.end());
      return values;
    }
    const int pivot = values[values.size() / 2];
    std::vector<int> below, equal, above;
    for (int v : values) (v < pivot ? below : v == pivot ? equal : above).push_back(v);
    auto lower =
        pool_.submit([this, below = std::move(below)]() mutable { return sort(std::move(below)); });
    std::vector<int> sorted = sort(std::move(above));
    std::vector<int> result = lower.get();
    result.insert(result.end(), equal.begin(), equal.end());
    result.insert(result.end(), sorted.begin(), sorted.end());
    return result;
  }

  const ThreadTally& tally() const { return tally_; }

 private:
  static constexpr std::size_t kSmall = 24;
  kata::Pool& pool_;
  ThreadTally tally_;
};

constexpr const char* kDeadlockCauses =
    "Most likely every worker is inside get(), each waiting for a task that sits in the queue "
    "behind it, and no thread is left to take that task (Python's ThreadPoolExecutor deadlocks "
    "the same way). While a worker waits in get(), what does it do, and could it take that task "
    "itself? (If it already runs tasks while it waits: does it hold the pool's mutex while one "
    "runs, or sleep through the news that a task was queued?)";

// ---- the tests -------------------------------------------------------------------------------

TEST_F(NestedWait, ATaskWaitingForATaskFinishesOnOneWorker) {
  // Python's docs (concurrent.futures, ThreadPoolExecutor) show this deadlock: with
  // max_workers=1, a task that runs `f = executor.submit(pow, 5, 2); print(f.result())` never
  // completes, since pow waits in the queue behind the only worker's task.
  TestPool pool(1);
  auto outer = pool->submit([&pool] {
    auto f = pool->submit([] { return 5 * 5; });  // pow(5, 2)
    return f.get();
  });
  const int result = testkit::finishes_within(
      kDeadlock,
      "On a pool of 1 worker, a task that submits pow(5, 2) and waits for its result with get()",
      [&] { return outer.get(); },
      "The only worker runs the waiting task, and pow(5, 2) sits in the queue behind it: while "
      "get() waits for pow, who is left to run it? (If get() already runs queued tasks: does it "
      "hold the pool's mutex while one runs, or not know that it is on the pool's own worker?)");
  EXPECT_EQ(result, 25) << "a task waited for pow(5, 2) and got " << result << ", not 25";
}

TEST_F(NestedWait, RecursiveFibOnTwoWorkersFinishes) {
  constexpr int kN = 14;
  const auto [expected, expected_calls] = fib_and_calls(kN);
  const int threads_before = testkit::thread_count();
  TestPool pool(2);
  RecursiveFib fib(*pool, kN);
  auto root = pool->submit([&fib] { return fib.call(kN, 1); });
  std::atomic<pid_t> caller{0};
  const int result = testkit::finishes_within(
      kDeadlock,
      "fib(14) on a pool of 2 workers, where every call submits fib(n-1) and fib(n-2) and "
      "waits for both with get(),",
      [&] {
        caller = testkit::this_thread_tid();
        return root.get();
      },
      kDeadlockCauses);

  EXPECT_EQ(result, expected) << "fib(14) is " << expected << ", the pool computed " << result;
  const std::vector<std::size_t> twice = fib.ran_twice();
  EXPECT_TRUE(twice.empty()) << twice.size() << " of the " << expected_calls
                             << " calls ran more than once: is a task run by a waiting worker "
                                "also left in the queue, for a worker to run again?";
  EXPECT_EQ(fib.calls(), expected_calls)
      << "fib(14) makes " << expected_calls << " calls, " << fib.calls() << " ran";
  // The workers, the test's thread and finishes_within's thread.
  const std::string extra = fib.tally().extra_threads(2, threads_before + 2 + 1, caller.load());
  EXPECT_TRUE(extra.empty()) << extra;
}

TEST_F(NestedWait, RecursiveQuicksortOnTwoWorkersFinishes) {
  std::mt19937 random(2024);
  std::uniform_int_distribution<int> value(0, 999);
  std::vector<int> input(3000);
  for (int& v : input) v = value(random);
  std::vector<int> expected = input;
  std::sort(expected.begin(), expected.end());

  const int threads_before = testkit::thread_count();
  TestPool pool(2);
  RecursiveQuicksort quicksort(*pool);
  auto root = pool->submit([&quicksort, &input] { return quicksort.sort(input); });
  std::atomic<pid_t> caller{0};
  const std::vector<int> sorted = testkit::finishes_within(
      kDeadlock,
      "A quicksort of 3000 values on a pool of 2 workers, where every call hands the values "
      "below its pivot to a task and waits for it with get(),",
      [&] {
        caller = testkit::this_thread_tid();
        return root.get();
      },
      kDeadlockCauses);

  EXPECT_EQ(sorted.size(), input.size())
      << "3000 values went in, " << sorted.size() << " came out: did a task's result get lost?";
  EXPECT_TRUE(sorted == expected) << "the result is not what std::sort gives for the same "
                                     "values: did a task's result get lost or mixed up?";
  const std::string extra =
      quicksort.tally().extra_threads(2, threads_before + 2 + 1, caller.load());
  EXPECT_TRUE(extra.empty()) << extra;
}

TEST_F(NestedWait, AWaitingWorkerRunsTheTasksInTheQueue) {
  // Worker 1 is held by `held` until another task meets it at the barrier. The task on worker
  // 2 submits that other task and waits for `held`: only worker 2, inside get(), can run it.
  testkit::TimedBarrier together(2, kPatience);
  std::atomic<bool> held_started{false};
  TestPool pool(2);
  auto held = pool->submit([&] {
    held_started = true;
    return together.arrive_and_wait();  // true if the other task came while this one ran
  });
  ASSERT_TRUE(testkit::eventually([&] { return held_started.load(); }, 3s))
      << "a task submitted to an idle pool of 2 workers did not start within 3 s";
  auto waiting = pool->submit([&] {
    auto queued = pool->submit([&] { together.arrive_and_wait(); });
    const bool met = held.get();
    queued.get();
    return met;
  });
  const bool met = testkit::finishes_within(
      8s, "get() of a task that waited for a task held on the other worker",
      [&] { return waiting.get(); }, kDeadlockCauses);
  EXPECT_TRUE(met)
      << "on a pool of 2 workers, a task submitted a second task, then waited in get() for a "
         "task the other worker was running; the second task sat in the queue until that "
         "worker was free, while the waiting worker did nothing. Once every worker waits like "
         "that, the pool deadlocks. Does get() on a worker only wait, or run nothing but the "
         "very task it waits for?";
}

TEST_F(NestedWait, AWaitingWorkerWakesUpForATaskQueuedLater) {
  // As above, but the task that can let `held` go is submitted by the test, once worker 2 is
  // already asleep in get(). `held` begins to wait for it only then (at `go`).
  testkit::TimedBarrier go(2, 5s);
  testkit::TimedBarrier together(2, kPatience);
  std::atomic<bool> held_started{false};
  std::atomic<pid_t> waiter{0};
  TestPool pool(2);
  auto held = pool->submit([&] {
    held_started = true;
    go.arrive_and_wait();
    return together.arrive_and_wait();
  });
  ASSERT_TRUE(testkit::eventually([&] { return held_started.load(); }, 3s))
      << "a task submitted to an idle pool of 2 workers did not start within 3 s";
  auto waiting = pool->submit([&] {
    waiter = testkit::this_thread_tid();
    return held.get();
  });
  // A worker that never sleeps is another test's business (AWaitingWorkerWith...Sleeps).
  testkit::eventually([&] { return not_asleep(waiter.load()).empty(); }, 3s);
  auto late = pool->submit([&] { together.arrive_and_wait(); });
  go.arrive_and_wait();
  const bool met = testkit::finishes_within(
      8s, "get() of a task that waited for a task held on the other worker",
      [&] { return waiting.get(); }, kDeadlockCauses);
  testkit::finishes_within(
      3s, "get() of the task queued last", [&] { late.get(); }, kDeadlockCauses);
  EXPECT_TRUE(met)
      << "on a pool of 2 workers, one worker was asleep in get(), waiting for a task the other "
         "worker was running, when a new task was queued; the new task ran only once the "
         "other worker was free. Does a worker in get() run queued tasks at all, and if it "
         "does, what wakes it when it sleeps there: only its own result, or also a new task?";
}

TEST_F(NestedWait, AWaitingWorkerWithNothingToRunSleeps) {
  // Worker 1 is held until the test lets it go; worker 2 waits in get() for it with an empty
  // queue, so it has nothing to do but sleep.
  testkit::CondWaitSpy spy;
  testkit::TimedBarrier release(2, 5s);
  std::atomic<bool> held_started{false};
  std::atomic<pid_t> waiter{0};
  TestPool pool(2);
  auto held = pool->submit([&] {
    held_started = true;
    release.arrive_and_wait();
    return 7;
  });
  const bool started = testkit::eventually([&] { return held_started.load(); }, 3s);
  auto waiting = pool->submit([&] {
    spy.watch(testkit::this_thread_tid());  // its waits from here on, inside get()
    waiter = testkit::this_thread_tid();
    return held.get();
  });
  std::string why;
  testkit::eventually([&] { return (why = not_asleep(waiter.load())).empty(); }, 3s);
  const int waits = spy.waits();
  const auto limit = spy.latest_limit();
  release.arrive_and_wait();  // let the held task go before anything can end the test
  const int result = testkit::finishes_within(
      5s, "get() of a task that waited for a task which has finished",
      [&] { return waiting.get(); }, kDeadlockCauses);

  ASSERT_TRUE(started) << "a task submitted to an idle pool of 2 workers did not start in 3 s";
  EXPECT_EQ(result, 7) << "the waiting task got " << result << " from get(), not 7";
  EXPECT_TRUE(why.empty())
      << "a worker waited in get() for a task running on the other worker, with nothing "
         "queued, for 3 s; it should have been asleep, but "
      << why;
  if (why.empty() && waits > 0) {
    EXPECT_FALSE(limit.has_value())
        << "a worker waiting in get() with nothing to run waited on a condition variable with "
           "a time limit of "
        << std::chrono::duration_cast<std::chrono::milliseconds>(limit.value_or(0ns)).count()
        << " ms, so it wakes up again and again although nothing happened: does it wait with "
           "a timeout and look again?";
  }
}

TEST_F(NestedWait, ThreadsOutsideThePoolOnlyWait) {
  // The pool's only worker is held; two tasks are queued behind it. A thread of the test and
  // the worker of another pool wait in get() for them: they must leave them to the worker.
  testkit::TimedBarrier release(2, 5s);
  std::atomic<bool> held_started{false};
  TestPool pool(1);
  auto held = pool->submit([&] {
    held_started = true;
    release.arrive_and_wait();
    return testkit::this_thread_tid();
  });
  const bool started = testkit::eventually([&] { return held_started.load(); }, 3s);
  auto first = pool->submit([] { return testkit::this_thread_tid(); });
  auto second = pool->submit([] { return testkit::this_thread_tid(); });

  std::atomic<pid_t> outsider{0};
  pid_t first_ran_on = 0;
  std::thread outside([&] {
    outsider = testkit::this_thread_tid();
    first_ran_on = first.get();
  });
  TestPool other(1);
  std::atomic<pid_t> other_worker{0};
  auto from_other = other->submit([&] {
    other_worker = testkit::this_thread_tid();
    return second.get();
  });
  // Both are waiting (or, if they ran the tasks themselves, done) before the worker is let go.
  auto settled = [](pid_t id) {
    return id != 0 && (!testkit::thread_alive(id) || testkit::blocked(id));
  };
  testkit::eventually([&] { return settled(outsider.load()) && settled(other_worker.load()); }, 3s);
  release.arrive_and_wait();
  testkit::finishes_within(
      5s, "get() on a thread outside the pool", [&] { outside.join(); }, kDeadlockCauses);
  const pid_t second_ran_on = testkit::finishes_within(
      5s, "get() on the worker of another pool", [&] { return from_other.get(); }, kDeadlockCauses);
  const pid_t worker = held.get();

  ASSERT_TRUE(started) << "a task submitted to an idle pool of 1 worker did not start in 3 s";
  EXPECT_NE(first_ran_on, outsider.load())
      << "a thread outside the pool waited in get() for a task of a pool of 1 worker, and ran "
         "that task itself: only the pool's own workers run its tasks (Python's result() just "
         "waits). How does get() tell the pool's workers from other threads?";
  EXPECT_NE(second_ran_on, other_worker.load())
      << "the worker of another pool waited in get() for a task of this pool, and ran it "
         "itself: does get() ask whether it runs on a worker of any pool, rather than of the "
         "pool the task belongs to?";
  EXPECT_EQ(first_ran_on, worker)
      << "a task of a pool of 1 worker ran on a thread other than that worker";
  EXPECT_EQ(second_ran_on, worker)
      << "a task of a pool of 1 worker ran on a thread other than that worker";
}

// The exception the tests' tasks throw: a type of our own, to check that the original arrives.
class TaskFailed : public std::runtime_error {
 public:
  explicit TaskFailed(int task) : std::runtime_error("task " + std::to_string(task) + " failed") {}
};

TEST_F(NestedWait, ResultsAndExceptionsReachGetWithTheirTypes) {
  TestPool pool(2);
  auto number = pool->submit([] { return 6 * 7; });
  auto text = pool->submit([] { return std::string("forty-two"); });
  auto owned = pool->submit([p = std::make_unique<int>(42)]() mutable { return std::move(p); });
  std::atomic<int> effect{0};
  auto nothing = pool->submit([&effect] { effect = 1; });
  auto failing = pool->submit([]() -> int { throw TaskFailed(3); });
  auto odd = pool->submit([] { throw 42; });
  auto nested = pool->submit([&pool] {
    auto child = pool->submit([]() -> int { throw TaskFailed(5); });
    return child.get() + 1;  // child's exception goes on, through this task's get()
  });
  auto after = pool->submit([] { return 1; });

  testkit::finishes_within(
      5s, "get() of 8 short tasks on a pool of 2 workers",
      [&] {
        EXPECT_EQ(number.get(), 42);
        EXPECT_EQ(text.get(), "forty-two");
        const std::unique_ptr<int> p = owned.get();
        ASSERT_NE(p, nullptr) << "a task returned a std::unique_ptr; get() gave back null";
        EXPECT_EQ(*p, 42);
        nothing.get();
        EXPECT_EQ(effect.load(), 1) << "get() of a void task returned before the task had run";
        try {
          failing.get();
          ADD_FAILURE() << "a task threw TaskFailed, and get() returned normally: is the "
                           "exception caught and then dropped?";
        } catch (const TaskFailed& e) {
          EXPECT_STREQ(e.what(), "task 3 failed");
        } catch (...) {
          ADD_FAILURE() << "a task threw TaskFailed; get() threw something else: is the "
                           "original kept (std::current_exception) and re-thrown?";
        }
        try {
          odd.get();
          ADD_FAILURE() << "a task threw an int, and get() returned normally";
        } catch (int value) {
          EXPECT_EQ(value, 42);
        } catch (...) {
          ADD_FAILURE() << "a task threw the int 42; get() threw something else: are only "
                           "std::exceptions kept?";
        }
        try {
          nested.get();
          ADD_FAILURE() << "a task's sub-task threw, the task let it pass through its get(), "
                           "and get() on the task returned normally";
        } catch (const TaskFailed& e) {
          EXPECT_STREQ(e.what(), "task 5 failed");
        } catch (...) {
          ADD_FAILURE() << "a sub-task threw TaskFailed through its parent task; get() on the "
                           "parent threw something else";
        }
        EXPECT_EQ(after.get(), 1) << "a task submitted after the throwing ones went wrong";
      },
      kDeadlockCauses);
}

TEST_F(NestedWait, TheDestructorRunsEveryTaskThenJoins) {
  // The only worker is held until the destructor has begun (its thread is seen blocked); 20
  // tasks wait behind it, and the held task then submits 5 more.
  std::atomic<int> ran{0};
  TestPool pool(1);
  kata::Pool* const raw = &*pool;
  raw->submit([&ran, &pool, raw] {
    testkit::eventually(
        [&] {
          const pid_t id = pool.destroyer();
          return id != 0 && testkit::blocked(id);
        },
        3s);
    for (int i = 0; i < 5; ++i) raw->submit([&ran] { ran.fetch_add(1); });
    ran.fetch_add(1);
  });
  for (int i = 0; i < 20; ++i) raw->submit([&ran] { ran.fetch_add(1); });
  pool.destroy("~Pool() with 1 task running and 20 queued",
               "The destructor runs what is queued and joins the workers. Is a worker asleep that "
               "nobody wakes?");
  EXPECT_EQ(ran.load(), 26)
      << "the pool was destroyed while 1 task ran and 20 were queued, and the running task "
         "submitted 5 more; when the destructor returned, "
      << ran.load()
      << " of 26 had run. Does a worker leave as soon as the pool is shutting down, without "
         "emptying the queue?";
}

}  // namespace
