// Tests for kata 03a: a ThreadPool of n workers runs every submitted task exactly once, on
// exactly n threads; idle workers sleep; close() then join() (and the destructor) run every
// queued task; submit() after close() throws; a throwing task does not stop its worker; a task
// is destroyed as soon as it has run.
//
// "Idle workers sleep" is read from the kernel, not from a stopwatch: testkit::blocked_syscall
// says which system call a worker is blocked in (a condition variable waits in futex, a sleep
// in nanosleep), and testkit::CondWaitSpy says whether a worker's wait has a time limit (a
// worker that wakes up every few milliseconds to look is polling). The spy also holds a worker
// at the door of its wait, so a close() that can be lost is lost on the first try. Tasks that
// must be running while the test looks are held at a Gate.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "testkit/cond_wait_spy.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "testkit/under_test.hpp"
#include "thread_pool.hpp"

namespace {

using namespace std::chrono_literals;

class ThreadPool : public testkit::LeakCheckedTest {};

constexpr const char* kHangCauses =
    "Is a worker asleep that nobody wakes (does close() wake every sleeping worker, and does "
    "a worker look at the queue and the closed flag under the mutex before it waits?), or "
    "does a worker hold the mutex while it runs a task?";

// Tasks wait here until the test opens the gate, so that the test knows they are running
// while it looks. A task gives up after `patience`, so a broken pool cannot hang a test.
class Gate {
 public:
  bool pass(std::chrono::milliseconds patience) {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    const bool opened = changed_.wait_for(lock, patience, [&] { return open_; });
    --waiting_;
    return opened;
  }

  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

  // Waits (at most `bound`) until `count` tasks are waiting at the gate.
  bool wait_for_waiting(int count, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return waiting_ >= count; });
  }

  int waiting() {
    std::lock_guard lock(mutex_);
    return waiting_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// A flag one thread raises and another waits for, with a bound.
class Signal {
 public:
  void raise() {
    std::lock_guard lock(mutex_);
    raised_ = true;
    changed_.notify_all();
  }
  bool wait(std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return raised_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

void close_and_join(kata::ThreadPool& pool, const std::string& what) {
  testkit::finishes_within(
      5s, "close() then join() of a pool " + what,
      [&] {
        pool.close();
        pool.join();
      },
      kHangCauses);
}

// The pool under test, destroyed under a deadline (testkit::UnderTest): a destructor that hangs
// (also after an ASSERT has ended a test early) becomes a TIMEOUT that says what hung.
class PoolUnderTest : public testkit::UnderTest<kata::ThreadPool> {
 public:
  explicit PoolUnderTest(std::size_t workers)
      : UnderTest({5s, "~ThreadPool()", kHangCauses}, workers) {}
};

constexpr const char* kTaskNeverStarted =
    "a task submitted to an idle pool did not start within 3 s: is a worker asleep although a "
    "task is queued? Does it look at the queue before it goes to sleep?";

// ---- what the workers are doing -------------------------------------------------------------

// The kernel ids of the pool's workers: `workers` tasks, held together at a barrier, each
// report the thread they run on. Fewer ids come back if the tasks never ran together.
std::vector<pid_t> worker_ids(kata::ThreadPool& pool, int workers) {
  struct Shared {
    explicit Shared(int n) : barrier(static_cast<std::size_t>(n), 2s) {}
    testkit::TimedBarrier barrier;
    std::mutex mutex;
    std::vector<pid_t> ids;
    int finished = 0;
  };
  auto shared = std::make_shared<Shared>(workers);
  for (int i = 0; i < workers; ++i) {
    pool.submit([shared] {
      {
        std::lock_guard lock(shared->mutex);
        shared->ids.push_back(testkit::this_thread_tid());
      }
      shared->barrier.arrive_and_wait();
      std::lock_guard lock(shared->mutex);
      ++shared->finished;
    });
  }
  testkit::eventually(
      [&] {
        std::lock_guard lock(shared->mutex);
        return shared->finished == workers || shared->barrier.broken();
      },
      5s);
  std::lock_guard lock(shared->mutex);
  return shared->ids;
}

// Empty if every worker is blocked waiting on a condition variable (in futex); otherwise what
// was seen, in words.
std::string why_workers_are_not_asleep(const std::vector<pid_t>& workers) {
  int gone = 0, sleeping = 0, busy = 0;
  for (pid_t id : workers) {
    switch (testkit::activity_of(id)) {
      case testkit::Activity::kAsleepInFutex:
        break;
      case testkit::Activity::kEnded:
        ++gone;
        break;
      case testkit::Activity::kSleeping:
        ++sleeping;
        break;
      default:  // running, or blocked in another system call
        ++busy;
    }
  }
  std::string why;
  const std::string of = " of " + std::to_string(workers.size());
  if (gone > 0) {
    why += std::to_string(gone) + of +
           " worker threads had ended although the pool was still open: does a worker return "
           "when it finds the queue empty? ";
  }
  if (busy > 0) {
    why += std::to_string(busy) + of +
           " idle workers were running on a core although the pool had nothing to do: does the "
           "worker loop ask the queue again and again instead of sleeping? ";
  }
  if (sleeping > 0) {
    why += std::to_string(sleeping) + of +
           " idle workers were in std::this_thread::sleep_for, which nothing can cut short: do "
           "they sleep a little and look again (polling)? ";
  }
  return why;
}

// ---- the tests -------------------------------------------------------------------------------

TEST_F(ThreadPool, StartsExactlyTheWorkersItWasAskedFor) {
  const int before = testkit::thread_count();
  PoolUnderTest pool(3);
  const int added = testkit::thread_count() - before;
  EXPECT_EQ(added, 3) << "ThreadPool(3) added " << added
                      << " threads to the process, not 3: does the constructor start one "
                         "worker thread per requested worker?";
  EXPECT_EQ(pool->size(), 3u) << "size() should say how many workers the pool has";
  close_and_join(*pool, "of 3 idle workers");
}

TEST_F(ThreadPool, RunsAsManyTasksAtOnceAsItHasWorkers) {
  constexpr int kWorkers = 3;
  auto barrier = std::make_shared<testkit::TimedBarrier>(kWorkers, 2s);
  auto probe = std::make_shared<testkit::InflightProbe>();
  PoolUnderTest pool(kWorkers);
  for (int i = 0; i < kWorkers; ++i) {
    pool->submit([barrier, probe] {
      auto in = probe->enter();
      barrier->arrive_and_wait();  // returns when all 3 are here, or gives up after 2 s
    });
  }
  // Closing only once the barrier is done: the tasks run on the open pool.
  testkit::eventually([&] { return barrier->completed() || barrier->broken(); }, 5s);
  close_and_join(*pool, "of 3 workers running 3 tasks that wait for each other");
  EXPECT_EQ(probe->entries(), kWorkers) << "3 tasks were submitted, " << probe->entries()
                                        << " ran: is every queued task taken and run?";
  EXPECT_TRUE(barrier->completed())
      << "each of 3 tasks waits (up to 2 s) until all 3 run at the same time on a pool of 3 "
         "workers, but at most "
      << probe->max_in_flight()
      << " ever ran together: does a worker keep the queue's mutex locked while it runs a "
         "task, so the others cannot take one?";
}

TEST_F(ThreadPool, NeverRunsMoreTasksAtOnceThanItHasWorkers) {
  constexpr int kWorkers = 3;
  constexpr int kTasks = 2 * kWorkers;
  auto gate = std::make_shared<Gate>();
  auto probe = std::make_shared<testkit::InflightProbe>();
  const int before = testkit::thread_count();
  PoolUnderTest pool(kWorkers);
  for (int i = 0; i < kTasks; ++i) {
    pool->submit([gate, probe] {
      auto in = probe->enter();
      gate->pass(5s);
    });
  }
  // 3 tasks run and wait at the gate; the other 3 must still be queued.
  EXPECT_TRUE(gate->wait_for_waiting(kWorkers, 3s))
      << "6 tasks were submitted to a pool of 3 workers, but only " << gate->waiting()
      << " started within 3 s: does every worker take tasks from the queue?";
  const int threads = testkit::thread_count() - before;
  gate->open();
  close_and_join(*pool, "of 3 workers after 6 short tasks");

  EXPECT_LE(threads, kWorkers) << "with 6 tasks submitted, a pool of 3 workers had added "
                               << threads
                               << " threads to the process: does submit() start a thread of its "
                                  "own for a task?";
  EXPECT_LE(probe->max_in_flight(), kWorkers)
      << probe->max_in_flight()
      << " tasks ran at the same time on a pool of 3 workers: does something other than the "
         "3 workers run tasks?";
  EXPECT_EQ(probe->entries(), kTasks)
      << kTasks << " tasks were submitted, " << probe->entries()
      << " ran; 3 of them were still queued when close() came: does close() drop queued "
         "tasks?";
}

TEST_F(ThreadPool, IdleWorkersSleepUntilThereIsWork) {
  testkit::CondWaitSpy spy;
  PoolUnderTest pool(3);
  const std::vector<pid_t> workers = worker_ids(*pool, 3);
  ASSERT_FALSE(workers.empty()) << kTaskNeverStarted;
  // Watch one worker's waits from now on; another round of tasks makes it wait again.
  spy.watch(workers.front());
  worker_ids(*pool, 3);

  std::string why;
  const bool asleep = testkit::eventually(
      [&] {
        why = why_workers_are_not_asleep(workers);
        return why.empty() && spy.waits() > 0;
      },
      3s);
  EXPECT_TRUE(why.empty()) << "the pool had run its tasks and had nothing to do: " << why;
  if (!asleep || !why.empty()) return;
  const auto limit = spy.latest_limit();
  EXPECT_FALSE(limit.has_value())
      << "an idle worker waited on its condition variable with a time limit of "
      << std::chrono::duration_cast<std::chrono::milliseconds>(limit.value_or(0ns)).count()
      << " ms, so it wakes up again and again although nothing happened: does it wait with a "
         "timeout and look again? A notify wakes it when there is something to do.";
  close_and_join(*pool, "of 3 idle workers");
}

TEST_F(ThreadPool, EveryTaskRunsExactlyOnce) {
  // Two threads submit 3000 tasks each, as fast as they can, while 3 workers take them: the
  // queue is empty, full and empty again many times, and workers wake up to find that another
  // one was quicker.
  constexpr int kWorkers = 3;
  constexpr int kPerSubmitter = 3000;
  constexpr int kTasks = 2 * kPerSubmitter;
  auto runs = std::make_shared<std::vector<std::atomic<int>>>(kTasks);
  const int before = testkit::thread_count();
  PoolUnderTest pool(kWorkers);

  testkit::finishes_within(
      10s, "submitting 6000 tasks from 2 threads",
      [&] {
        std::vector<std::thread> submitters;
        for (int s = 0; s < 2; ++s) {
          submitters.emplace_back([&pool, runs, s] {
            for (int i = s * kPerSubmitter; i < (s + 1) * kPerSubmitter; ++i) {
              pool->submit([runs, i] { (*runs)[static_cast<std::size_t>(i)].fetch_add(1); });
            }
          });
        }
        for (std::thread& submitter : submitters) submitter.join();
      },
      kHangCauses);

  auto ran = [&] {
    int total = 0;
    for (const auto& count : *runs) total += count.load() > 0 ? 1 : 0;
    return total;
  };
  // Before close(): the open pool must get through all of them on its own.
  const bool all_ran = testkit::eventually([&] { return ran() == kTasks; }, 5s);
  const int workers_left = testkit::thread_count() - before;
  close_and_join(*pool, "of 3 workers after 6000 tasks");

  EXPECT_TRUE(all_ran) << "of " << kTasks << " tasks submitted to an open pool, only " << ran()
                       << " had run after 5 s: are workers asleep although tasks are queued "
                          "(a wake-up lost or taken by another worker)?";
  EXPECT_EQ(workers_left, kWorkers)
      << "after 6000 tasks only " << workers_left << " of " << kWorkers
      << " workers were still there although the pool was open: does a worker that was woken "
         "but finds the queue empty (another worker took the task) return instead of waiting "
         "again?";
  std::vector<int> twice;
  for (int i = 0; i < kTasks; ++i) {
    if ((*runs)[static_cast<std::size_t>(i)].load() > 1) twice.push_back(i);
  }
  EXPECT_TRUE(twice.empty()) << twice.size() << " task(s) ran more than once, e.g. task "
                             << twice.front()
                             << ": is a task taken from the queue without holding the mutex?";
}

TEST_F(ThreadPool, ATaskSubmittedRightAfterStartingRuns) {
  // Right after the constructor, the workers have often not reached their first wait yet. A
  // task queued then must not be missed: the worker has to see it when it gets there.
  for (int cycle = 1; cycle <= 100; ++cycle) {
    auto ran = std::make_shared<Signal>();
    PoolUnderTest pool(2);
    pool->submit([ran] { ran->raise(); });
    ASSERT_TRUE(ran->wait(5s))
        << "in cycle " << cycle
        << ", a task submitted right after the pool was made had not run 5 s later (the "
           "cycles before it ran at once): does a worker go to sleep without first looking "
           "whether a task is already queued? A notify that comes before the wait wakes "
           "nobody.";
    close_and_join(*pool, "of 2 workers");
  }
}

TEST_F(ThreadPool, CloseThenJoinRunsEveryQueuedTask) {
  auto gate = std::make_shared<Gate>();
  auto ran = std::make_shared<std::atomic<int>>(0);
  PoolUnderTest pool(1);
  pool->submit([gate, ran] {  // keeps the only worker busy until the test opens the gate
    gate->pass(5s);
    ran->fetch_add(1);
  });
  for (int i = 0; i < 20; ++i) pool->submit([ran] { ran->fetch_add(1); });
  ASSERT_TRUE(gate->wait_for_waiting(1, 3s)) << kTaskNeverStarted;

  testkit::finishes_within(
      3s, "close() while a task runs and 20 wait in the queue", [&] { pool->close(); },
      "close() only marks the pool closed and returns at once, like Python's close(): does it "
      "wait for the workers?");
  gate->open();
  testkit::finishes_within(
      3s, "join() after close()", [&] { pool->join(); }, kHangCauses);

  EXPECT_EQ(ran->load(), 21)
      << "close() came while 1 task ran and 20 were queued; after join(), " << ran->load()
      << " of 21 had run. close() means 'no new tasks', not 'drop the queue': does a worker "
         "leave as soon as it sees the pool closed, without looking at the queue?";
}

TEST_F(ThreadPool, CloseWakesEveryIdleWorker) {
  PoolUnderTest pool(4);
  const std::vector<pid_t> workers = worker_ids(*pool, 4);
  // All 4 asleep (if they ever sleep: that is another test's business), then close.
  testkit::eventually([&] { return why_workers_are_not_asleep(workers).empty(); }, 3s);
  testkit::finishes_within(
      5s, "close() then join() of a pool of 4 sleeping workers",
      [&] {
        pool->close();
        pool->join();
      },
      "join() waits until every worker has ended, so every sleeping worker must wake up and "
      "see that the pool is closed. Does close() wake just one of them?");
}

TEST_F(ThreadPool, CloseIsHeardByAWorkerAboutToWait) {
  // A worker looks at the queue and the closed flag with the mutex held, then waits. If
  // close() sets the flag, or notifies, without that mutex, it can come in between: the worker
  // saw "open", the notify finds nobody waiting yet, and the worker then sleeps for good, and
  // join() with it. The spy holds the worker right there, at the door of its wait (mutex held),
  // until the thread calling close() is seen blocked: a close() that takes the mutex blocks on
  // it, the worker goes on into its wait, and close() gets through and is heard; a close() that
  // takes no lock is over before the wait begins. One try is enough.
  testkit::CondWaitSpy spy;
  std::atomic<pid_t> closer{0};
  PoolUnderTest pool(1);
  auto armed = std::make_shared<Signal>();
  pool->submit([&spy, &closer, armed] {
    spy.watch(testkit::this_thread_tid());
    spy.hold_next_wait(
        [&closer] {
          const pid_t id = closer.load();
          return id != 0 && testkit::blocked(id);
        },
        3s);
    armed->raise();
  });
  ASSERT_TRUE(armed->wait(3s)) << kTaskNeverStarted;
  // The worker is at the door once its next wait is being held (a worker that never waits on
  // a condition variable never gets there; IdleWorkersSleepUntilThereIsWork says so).
  testkit::eventually([&] { return spy.holds() > 0; }, 3s);
  testkit::finishes_within(
      6s, "close() then join() of a pool whose worker was about to wait",
      [&] {
        closer = testkit::this_thread_tid();
        pool->close();
        pool->join();
      },
      "The worker slept through close(). Does close() set the closed flag, or notify, without "
      "holding the mutex under which the worker looks at it before it waits? Then the wake-up "
      "can fall between the worker's look and its wait; see 'Lost and stolen wake-ups' in the "
      "lesson.");
}

TEST_F(ThreadPool, SubmitAfterCloseThrows) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  PoolUnderTest pool(2);
  pool->close();
  EXPECT_THROW(pool->submit([ran] { ran->fetch_add(1); }), std::logic_error)
      << "submit() on a closed pool returned normally. Python raises ValueError('Pool not "
         "running'): a task queued after close() may never run, and the caller must learn "
         "that. Does submit() look at the closed flag?";
  testkit::finishes_within(
      3s, "join() after close()", [&] { pool->join(); }, kHangCauses);
  EXPECT_EQ(ran->load(), 0) << "a task submitted after close() ran anyway";
}

TEST_F(ThreadPool, JoinBeforeCloseIsAnError) {
  PoolUnderTest pool(2);
  testkit::finishes_within(
      3s, "join() on an open pool",
      [&] {
        EXPECT_THROW(pool->join(), std::logic_error)
            << "join() on an open pool returned normally; Python raises ValueError('Pool is "
               "still running'), since the workers of an open pool wait for work forever";
      },
      "join() on an open pool waits for workers that wait for more work: in Python it is an "
      "error. Was the check at the top of join() removed?");
  close_and_join(*pool, "of 2 idle workers");
}

TEST_F(ThreadPool, DestructorRunsEveryQueuedTask) {
  auto gate = std::make_shared<Gate>();
  auto ran = std::make_shared<std::atomic<int>>(0);
  PoolUnderTest pool(1);
  kata::ThreadPool* const raw = &*pool;
  raw->submit([gate, ran] {  // keeps the only worker busy until the gate opens
    gate->pass(5s);
    ran->fetch_add(1);
  });
  for (int i = 0; i < 20; ++i) raw->submit([ran] { ran->fetch_add(1); });
  ASSERT_TRUE(gate->wait_for_waiting(1, 3s)) << kTaskNeverStarted;

  // The gate must open only after the destructor has closed the pool, so that the 20 tasks
  // are still queued at that moment. The destructor's close() is seen from outside as
  // submit() starting to throw: this thread keeps submitting (one more task each time) until
  // it does. Gives up after 3 s (a submit() that never throws) and opens the gate anyway.
  auto accepted = std::make_shared<std::atomic<int>>(0);
  std::thread opener([raw, gate, ran, accepted] {
    testkit::eventually(
        [&] {
          try {
            raw->submit([ran] { ran->fetch_add(1); });
            accepted->fetch_add(1);
            return false;
          } catch (const std::logic_error&) {
            return true;
          }
        },
        3s);
    gate->open();
  });
  pool.destroy("~ThreadPool() with 1 task running and 20 queued");
  opener.join();

  const int submitted = 21 + accepted->load();
  EXPECT_EQ(ran->load(), submitted)
      << "the pool was destroyed while 1 task ran and " << (submitted - 1)
      << " were queued; when the destructor returned, " << ran->load() << " of " << submitted
      << " had run. Does the destructor stop the workers without letting them empty the "
         "queue first?";
}

TEST_F(ThreadPool, DestroyingAnIdlePoolReturns) {
  PoolUnderTest pool(4);
  auto ran = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 8; ++i) pool->submit([ran] { ran->fetch_add(1); });
  testkit::eventually([&] { return ran->load() == 8; }, 3s);
  pool.destroy(
      "~ThreadPool() of a pool of 4 idle workers",
      "The destructor must wake every sleeping worker and join it. Does it wake just one, or "
      "join without closing the pool first?");
  EXPECT_EQ(ran->load(), 8) << "8 tasks were submitted, " << ran->load() << " ran";
}

// The exception the tests' tasks throw: a type of our own, to check the original arrives.
class TaskFailed : public std::runtime_error {
 public:
  explicit TaskFailed(int task) : std::runtime_error("task " + std::to_string(task) + " failed") {}
};

TEST_F(ThreadPool, ATaskThatThrowsDoesNotStopItsWorker) {
  struct Errors {
    std::mutex mutex;
    std::vector<std::exception_ptr> seen;
  };
  auto errors = std::make_shared<Errors>();
  auto later_task_ran = std::make_shared<Signal>();
  PoolUnderTest pool(1);  // one worker: the task after the throwing ones needs it alive

  pool->submit([] { throw TaskFailed(1); },
               [errors](std::exception_ptr error) {
                 std::lock_guard lock(errors->mutex);
                 errors->seen.push_back(error);
               });
  pool->submit([] { throw TaskFailed(2); });  // no on_error: the exception is dropped
  pool->submit([later_task_ran] { later_task_ran->raise(); });

  EXPECT_TRUE(later_task_ran->wait(5s))
      << "two tasks threw, and the task queued after them did not run within 5 s on the "
         "pool's only worker: does the exception end the worker's loop?";
  close_and_join(*pool, "of 1 worker after two tasks threw");

  std::lock_guard lock(errors->mutex);
  ASSERT_EQ(errors->seen.size(), 1u)
      << "a task that threw had an on_error, which was called " << errors->seen.size()
      << " times, not once: is the exception caught and handed to the task's on_error?";
  try {
    std::rethrow_exception(errors->seen.front());
  } catch (const TaskFailed& e) {
    EXPECT_STREQ(e.what(), "task 1 failed");
  } catch (...) {
    ADD_FAILURE() << "on_error received some other exception than the TaskFailed the task "
                     "threw: is the original passed on with std::current_exception()?";
  }
}

TEST_F(ThreadPool, ATaskAndWhatItCapturedAreReleasedOnceItHasRun) {
  // The task and its on_error each hold a copy of `token`; once the task has run, the pool
  // must let go of both, while it goes on living and waiting for work.
  auto token = std::make_shared<int>(42);
  auto ran = std::make_shared<Signal>();
  PoolUnderTest pool(2);
  pool->submit([token, ran] { ran->raise(); }, [token](std::exception_ptr) {});
  ASSERT_TRUE(ran->wait(5s)) << "a submitted task did not run within 5 s";
  const bool released = testkit::eventually([&] { return token.use_count() == 1; }, 2s);
  EXPECT_TRUE(released)
      << "the task has run, but the pool still holds " << (token.use_count() - 1)
      << " copies of what it captured, 2 s later. Whatever a task captured (a buffer, a "
         "socket, a lock) stays alive as long as the pool keeps the task: does a worker keep "
         "its last task until the next one replaces it?";

  // The same for a task that throws.
  auto thrown = std::make_shared<Signal>();
  pool->submit([token] { throw TaskFailed(static_cast<int>(*token)); },
               [token, thrown](std::exception_ptr) { thrown->raise(); });
  ASSERT_TRUE(thrown->wait(5s)) << "the on_error of a task that threw was not called within 5 s";
  EXPECT_TRUE(testkit::eventually([&] { return token.use_count() == 1; }, 2s))
      << "a task threw and its on_error ran, but the pool still holds " << (token.use_count() - 1)
      << " copies of what they captured: are they kept after use?";
  close_and_join(*pool, "of 2 workers");
}

}  // namespace
