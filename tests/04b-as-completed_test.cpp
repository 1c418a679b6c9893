// Tests for kata 04b: a future whose done-callbacks run exactly once, in order, on the right
// thread and without its lock held, and as_completed, which hands out futures in the order they
// complete, each as soon as it has, with the waiting thread asleep in between.
//
// Orders are chosen by the test, never left to a stopwatch: the test completes promises itself,
// or lets pool tasks go one at a time through a testkit::TimedBarrier it arrives at. A Consumer
// thread takes futures from as_completed, so the test can wait for the next one with a bound
// (a next() that never returns fails the test instead of hanging it) and can look at the
// waiting thread: asleep in futex, not running or in a sleep (testkit::blocked_syscall), and
// with no time limit on its wait (testkit::CondWaitSpy). Whether a callback runs while its
// future's lock is held is asked from a second thread, so that the callback never calls get()
// on a lock its own thread holds. One test counts on many tries instead of structure: the race
// of add_done_callback() against set_value() (see there why).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "as_completed.hpp"
#include "testkit/cond_wait_spy.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "thread_pool.hpp"

static_assert(std::is_move_constructible_v<kata::AsCompleted<int>>,
              "kata::AsCompleted must be movable: the tests move it, as any caller may (return it, "
              "keep it in a member). Does it hold a std::mutex itself, for its futures' callbacks "
              "to use?");

namespace {

using namespace std::chrono_literals;

class AsCompleted : public testkit::LeakCheckedTest {};

constexpr auto kPatience = 3s;  // how long the test waits for something that should happen

using IntFuture = kata::Future<int>;

// The exception the tests' work throws: a type of our own, so the test can tell the original
// from a copy squeezed into another type.
struct Rejected : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// What an exception was, in words: its type and its what(), e.g. Rejected("no").
std::string describe(const std::exception_ptr& error) { return testkit::describe_exception(error); }

// n promises and their futures, the futures in a vector as as_completed takes them.
struct Pending {
  explicit Pending(int n) : promises(n) {
    for (kata::Promise<int>& promise : promises) futures.push_back(promise.get_future());
  }
  std::vector<kata::Promise<int>> promises;
  std::vector<IntFuture> futures;
};

// Where `future` is among `inputs` (-1: none of them).
int position_of(const IntFuture& future, const std::vector<IntFuture>& inputs) {
  const auto it = std::find(inputs.begin(), inputs.end(), future);
  return it == inputs.end() ? -1 : static_cast<int>(it - inputs.begin());
}

// Empty if thread `tid` (a thread waiting in next()) is asleep in futex, where a condition
// variable waits; otherwise what it was doing instead, in words.
std::string not_asleep(pid_t tid) {
  return testkit::why_not_asleep(
      tid, {.if_sleeping = "does next() sleep a little and look at the futures again?",
            .if_running = "does next() ask the futures done() again and again instead of "
                          "sleeping?"});
}

// Takes futures from an AsCompleted on a thread of its own, until next() returns std::nullopt
// or throws. Each future handed out is noted as its position among `inputs`.
class Consumer {
 public:
  Consumer(kata::AsCompleted<int> futures, std::vector<IntFuture> inputs,
           std::function<void()> on_start = {})
      : futures_(std::move(futures)), inputs_(std::move(inputs)) {
    thread_ = std::thread([this, on_start = std::move(on_start)] {
      if (on_start) on_start();
      tid_ = testkit::this_thread_tid();
      run();
    });
  }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  ~Consumer() {
    testkit::finishes_within(
        10s, "the last next() of as_completed, with every future done", [&] { thread_.join(); },
        "Every future was done, but next() did not return. Does it wait for something that "
        "already happened, such as a notify sent before it began to wait?");
  }

  // True once `count` futures have been handed out; false if that did not happen within
  // `bound`.
  bool handed_out(std::size_t count, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, bound, [&] { return order_.size() >= count || finished_; });
    return order_.size() >= count;
  }

  // True once next() has returned std::nullopt or thrown (waits at most `bound`).
  bool finished(std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return finished_; });
  }

  std::vector<int> order() {
    std::lock_guard lock(mutex_);
    return order_;
  }

  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

  pid_t tid() const { return tid_.load(); }

 private:
  void run() {
    std::string error;
    try {
      while (std::optional<IntFuture> next = futures_.next()) {
        const int position = position_of(*next, inputs_);
        std::lock_guard lock(mutex_);
        order_.push_back(position);
        changed_.notify_all();
      }
    } catch (...) {
      error = describe(std::current_exception());
    }
    std::lock_guard lock(mutex_);
    error_ = error;
    finished_ = true;
    changed_.notify_all();
  }

  kata::AsCompleted<int> futures_;
  const std::vector<IntFuture> inputs_;
  std::atomic<pid_t> tid_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int> order_;
  std::string error_;
  bool finished_ = false;
  std::thread thread_;  // last: starts after the members it uses exist
};

// ---- the future itself -----------------------------------------------------------------------

TEST_F(AsCompleted, GetGivesTheValueOrTheExceptionWithItsType) {
  support::ThreadPool pool(2);
  IntFuture number = kata::submit(pool, [] { return 6 * 7; });
  kata::Future<std::string> word = kata::submit(pool, [] { return std::string("done"); });
  IntFuture failing = kata::submit(pool, []() -> int { throw Rejected("no"); });
  std::string got_failing = "no exception";
  std::string exception_of_failing = "null";
  testkit::finishes_within(5s, "get() of three quick tasks on a pool", [&] {
    EXPECT_EQ(number.get(), 42) << "get() of a task that returned 42";
    EXPECT_EQ(word.get(), "done") << "get() of a task that returned \"done\"";
    EXPECT_EQ(number.exception(), nullptr) << "exception() of a task that returned a value";
    try {
      failing.get();
    } catch (...) {
      got_failing = describe(std::current_exception());
    }
    if (std::exception_ptr error = failing.exception()) exception_of_failing = describe(error);
  });
  EXPECT_EQ(got_failing, "Rejected(\"no\")")
      << "a task threw Rejected(\"no\") and get() threw " << got_failing
      << ": does the future keep the exception itself (a std::exception_ptr), or a copy of "
         "another type?";
  EXPECT_EQ(exception_of_failing, "Rejected(\"no\")")
      << "exception() of a task that threw Rejected(\"no\") gave " << exception_of_failing;
  EXPECT_TRUE(number.done() && failing.done()) << "done() was false after get() had returned";

  kata::Promise<int> promise;
  IntFuture future = promise.get_future();
  EXPECT_FALSE(future.done()) << "done() was true for a future whose promise was not set";
  promise.set_value(1);
  EXPECT_TRUE(future.done()) << "done() was false after set_value()";
  EXPECT_THROW(promise.set_value(2), std::future_error)
      << "a second set_value() on one promise did not throw std::future_error";

  std::optional<IntFuture> orphan;
  {
    kata::Promise<int> dropped;
    orphan = dropped.get_future();
  }
  std::string got_orphan = "no exception";
  testkit::finishes_within(5s, "get() of a future whose promise was destroyed unset", [&] {
    try {
      orphan->get();
    } catch (...) {
      got_orphan = describe(std::current_exception());
    }
  });
  EXPECT_NE(got_orphan.find("std::future_error"), std::string::npos)
      << "get() of a future whose promise was destroyed without a result gave " << got_orphan;
}

// What the callbacks of one test saw.
struct CallbackLog {
  std::mutex mutex;
  std::vector<int> order;
  std::vector<pid_t> threads;

  // A callback that notes `key` and the thread it runs on.
  IntFuture::Callback note(int key) {
    return [this, key](const IntFuture&) {
      std::lock_guard lock(mutex);
      order.push_back(key);
      threads.push_back(testkit::this_thread_tid());
    };
  }

  std::size_t count() {
    std::lock_guard lock(mutex);
    return order.size();
  }
};

TEST_F(AsCompleted, CallbacksAddedBeforeCompletionRunOnceInOrderOnTheCompletingThread) {
  kata::Promise<int> promise;
  IntFuture future = promise.get_future();
  CallbackLog log;
  auto token = std::make_shared<int>(0);  // captured by the callbacks, to see who keeps them
  for (int key : {1, 2, 3}) {
    future.add_done_callback([note = log.note(key), token](const IntFuture& f) { note(f); });
  }
  EXPECT_EQ(log.count(), 0u) << "a callback ran before the future was done";
  pid_t completer = 0;
  std::size_t ran_during_set_value = 0;
  testkit::finishes_within(5s, "set_value() of a future with 3 callbacks", [&] {
    completer = testkit::this_thread_tid();
    promise.set_value(5);
    ran_during_set_value = log.count();
  });
  {
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.order, (std::vector<int>{1, 2, 3}))
        << "callbacks 1, 2, 3 were added to a future, which then completed; they ran in the "
           "order "
        << testkit::to_text(log.order) << ": are they run in the order they were added, each once?";
    EXPECT_EQ(std::count(log.threads.begin(), log.threads.end(), completer),
              static_cast<long>(log.threads.size()))
        << "a callback added before completion ran on another thread than the one that called "
           "set_value(): is it handed to some other thread?";
  }
  EXPECT_EQ(ran_during_set_value, 3u)
      << "when set_value() returned, " << ran_during_set_value
      << " of the 3 callbacks had run: the thread that completes a future runs them before it "
         "goes on";
  EXPECT_EQ(token.use_count(), 1)
      << "the future was done and its 3 callbacks had run, but " << (token.use_count() - 1)
      << " copies of them (and what they captured) were still kept: does the future hold on to "
         "its callbacks after running them? Whatever they captured stays alive as long as the "
         "future does.";

  // On a pool, the worker that ran the task runs the callbacks.
  support::ThreadPool pool(1);
  testkit::TimedBarrier gate(2, 5s);
  std::atomic<pid_t> worker{0};
  IntFuture task = kata::submit(pool, [&] {
    worker = testkit::this_thread_tid();
    gate.arrive_and_wait();
    return 1;
  });
  CallbackLog on_pool;
  task.add_done_callback(on_pool.note(1));
  gate.arrive_and_wait();
  testkit::finishes_within(5s, "get() of a task let go", [&] { task.wait(); });
  pool.close();
  pool.join();  // the callback has run (or never will)
  std::lock_guard lock(on_pool.mutex);
  EXPECT_EQ(on_pool.threads, std::vector<pid_t>{worker.load()})
      << "a callback added to the future of a task still running should run once, on the "
         "worker that ran the task; it ran on threads "
      << testkit::to_text(on_pool.threads) << " (the worker is " << worker.load() << ")";
}

TEST_F(AsCompleted, ACallbackAddedToADoneFutureRunsAtOnceOnTheCallersThread) {
  kata::Promise<int> promise;
  IntFuture future = promise.get_future();
  promise.set_value(5);
  kata::Promise<int> failing;
  IntFuture failed = failing.get_future();
  failing.set_exception(std::make_exception_ptr(Rejected("failed")));
  CallbackLog log;
  std::size_t ran_during_first_add = 0;
  pid_t caller = 0;
  testkit::finishes_within(5s, "add_done_callback() on a done future", [&] {
    caller = testkit::this_thread_tid();
    future.add_done_callback(log.note(1));
    ran_during_first_add = log.count();
    future.add_done_callback(log.note(2));
    failed.add_done_callback(log.note(3));
  });
  EXPECT_EQ(ran_during_first_add, 1u)
      << "add_done_callback() on a future that was done already returned before the callback "
         "ran. Nobody completes a done future again: does add_done_callback() only put the "
         "callback in the list?";
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2, 3}))
      << "callbacks 1 and 2 were added one after the other to a done future, then callback 3 to "
         "a future done with an exception; they ran as "
      << testkit::to_text(log.order) << ". Each should run once, when it is added.";
  EXPECT_EQ(log.threads, std::vector<pid_t>(log.threads.size(), caller))
      << "callbacks added to a done future ran on threads " << testkit::to_text(log.threads)
      << ", not on the thread that added them (" << caller << ")";
}

// What a callback saw of its own future.
struct CallbackView {
  std::atomic<int> answer{0};  // from the prober: 1 done() said true, 2 it said false
  std::thread prober;
  enum class Probe { kNotRun, kLocked, kNotDone, kDone } probe = Probe::kNotRun;
  int got = -1;
  bool inner_ran_at_once = false;
  std::atomic<bool> inner_ran{false};

  ~CallbackView() {
    if (prober.joinable()) prober.join();
  }
};

// A callback that first asks another thread whether its future is done. If that thread gets no
// answer, this one holds the future's lock, and get() here would wait for it forever; so only
// on the answer "done" does the callback call get() and add another callback, here.
IntFuture::Callback looking_callback(CallbackView& view) {
  return [&view](const IntFuture& future) {
    view.prober = std::thread([&view, future] { view.answer = future.done() ? 1 : 2; });
    if (!testkit::eventually([&] { return view.answer.load() != 0; }, kPatience)) {
      view.probe = CallbackView::Probe::kLocked;
      return;
    }
    if (view.answer.load() == 2) {
      view.probe = CallbackView::Probe::kNotDone;
      return;
    }
    view.probe = CallbackView::Probe::kDone;
    view.got = future.get();
    future.add_done_callback([&view](const IntFuture&) { view.inner_ran = true; });
    view.inner_ran_at_once = view.inner_ran.load();
  };
}

// Empty if the view shows a callback that could use its future; otherwise why not.
std::string what_went_wrong(const CallbackView& view, const std::string& which) {
  switch (view.probe) {
    case CallbackView::Probe::kNotRun:
      return "the callback " + which + " never ran";
    case CallbackView::Probe::kLocked:
      return "inside the callback " + which +
             ", another thread called done() on the future and got no answer within 3 s: is "
             "the future's lock held while callbacks run? A callback that calls get() or "
             "add_done_callback() there waits for that lock forever.";
    case CallbackView::Probe::kNotDone:
      return "inside the callback " + which +
             ", done() said false: are the callbacks called before the result is stored?";
    case CallbackView::Probe::kDone:
      break;
  }
  if (view.got != 7)
    return "get() inside the callback " + which + " gave " + std::to_string(view.got);
  if (!view.inner_ran_at_once) {
    return "inside the callback " + which +
           ", add_done_callback() on the (done) future returned before its callback ran";
  }
  return "";
}

TEST_F(AsCompleted, ACallbackMayCallGetAndAddAnotherCallback) {
  kata::Promise<int> promise;
  IntFuture future = promise.get_future();
  CallbackView before, after;
  future.add_done_callback(looking_callback(before));
  const std::string hint =
      "A callback called get() or add_done_callback() on its own future. Does the thread that "
      "runs the callbacks hold a lock they need?";
  testkit::finishes_within(
      10s, "set_value() of a future whose callback calls get()", [&] { promise.set_value(7); },
      hint);
  testkit::finishes_within(
      10s, "add_done_callback() on a done future, with a callback that calls get()",
      [&] { future.add_done_callback(looking_callback(after)); }, hint);
  testkit::finishes_within(5s, "the end of the threads that asked done()", [&] {
    if (before.prober.joinable()) before.prober.join();
    if (after.prober.joinable()) after.prober.join();
  });
  const std::string before_wrong = what_went_wrong(before, "added before completion");
  const std::string after_wrong = what_went_wrong(after, "added to the done future");
  EXPECT_TRUE(before_wrong.empty()) << before_wrong;
  EXPECT_TRUE(after_wrong.empty()) << after_wrong;
}

TEST_F(AsCompleted, ACallbackThatThrowsDoesNotStopTheOthers) {
  kata::Promise<int> promise;
  IntFuture future = promise.get_future();
  CallbackLog log;
  auto thrower = [](const IntFuture&) { throw Rejected("a callback failed"); };
  future.add_done_callback(log.note(1));
  future.add_done_callback(thrower);
  future.add_done_callback(log.note(3));
  std::string from_set_value = "nothing";
  std::string from_add = "nothing";
  int value = -1;
  testkit::finishes_within(5s, "set_value() and add_done_callback() with throwing callbacks", [&] {
    try {
      promise.set_value(5);
    } catch (...) {
      from_set_value = describe(std::current_exception());
    }
    value = future.get();
    try {
      future.add_done_callback(thrower);
    } catch (...) {
      from_add = describe(std::current_exception());
    }
    future.add_done_callback(log.note(4));
  });
  {
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.order, (std::vector<int>{1, 3, 4}))
        << "callback 2 of 3 threw; then, on the done future, a callback that threw and callback "
           "4 were added. The callbacks that ran: "
        << testkit::to_text(log.order)
        << ". Does an exception from one callback skip the ones after it? Python logs it and "
           "goes on.";
  }
  EXPECT_EQ(value, 5) << "get() gave " << value << " after set_value(5)";
  EXPECT_EQ(from_set_value, "nothing")
      << "set_value() let out " << from_set_value
      << ", thrown by a callback: the code that completes a future (a pool's worker) cannot "
         "know what to do with a callback's error. Is the callback's exception caught?";
  EXPECT_EQ(from_add, "nothing") << "add_done_callback() on a done future let out " << from_add
                                 << ", thrown by the callback";
}

// One batch of the race below: `rounds` futures, each completed by one thread while the other
// adds a callback to it.
struct RaceBatch {
  int rounds = 0;
  int never = 0;     // rounds in which the callback never ran
  int twice = 0;     // rounds in which it ran more than once
  int overlaps = 0;  // rounds in which the two calls were under way at the same time
};

RaceBatch race_add_and_complete(int rounds) {
  Pending pending(rounds);
  std::vector<std::atomic<int>> runs(rounds);
  // Each thread takes a ticket right before and right after its call: the calls overlapped if
  // each one began before the other ended.
  std::atomic<long> clock{0};
  std::vector<long> add_began(rounds), add_ended(rounds), set_began(rounds), set_ended(rounds);
  std::atomic<int> arrivals{0};
  auto meet = [&](int round) {  // both threads leave together
    arrivals.fetch_add(1);
    // Spin a while (both then leave within a few dozen nanoseconds), then let others run.
    for (int spins = 0; arrivals.load() < 2 * (round + 1); ++spins) {
      if (spins > 2000) std::this_thread::yield();
    }
  };
  // After they meet, one of the two takes a few steps first, a different number each round, so
  // that over the rounds every moment of one call meets every moment of the other.
  auto stagger = [](int round, int side) {
    std::atomic<int> steps{0};
    if (round % 2 == side) {
      while (steps.load(std::memory_order_relaxed) < round / 2 % 20) {
        steps.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::thread completer([&] {
    for (int round = 0; round < rounds; ++round) {
      meet(round);
      stagger(round, 0);
      set_began[round] = clock.fetch_add(1);
      pending.promises[round].set_value(round);
      set_ended[round] = clock.fetch_add(1);
    }
  });
  for (int round = 0; round < rounds; ++round) {
    meet(round);
    stagger(round, 1);
    add_began[round] = clock.fetch_add(1);
    pending.futures[round].add_done_callback(
        [&runs, round](const IntFuture&) { runs[round].fetch_add(1); });
    add_ended[round] = clock.fetch_add(1);
  }
  completer.join();
  RaceBatch batch;
  batch.rounds = rounds;
  for (int round = 0; round < rounds; ++round) {
    if (runs[round].load() == 0) ++batch.never;
    if (runs[round].load() > 1) ++batch.twice;
    if (add_began[round] < set_ended[round] && set_began[round] < add_ended[round]) {
      ++batch.overlaps;
    }
  }
  return batch;
}

TEST_F(AsCompleted, CallbacksAddedWhileTheFutureCompletesRunExactlyOnce) {
  // Round after round, one thread completes a future while the other adds a callback to it,
  // both let go at the same moment. Whichever comes first, the callback must run once: added
  // before, by the completing thread; added after, at once by the adding one.
  // The gap such a race needs (between a look at `done` and the append) lasts nanoseconds and
  // lies inside the learner's code, where no probe reaches; so this test, unlike the others,
  // counts on many tries. Only rounds in which the two calls overlapped in time can hit the
  // gap, and how many do depends on whether the two threads get a core each; so batches of
  // rounds run until enough calls overlapped (or for at most a few seconds: more tries only
  // make a catch likelier, they never decide the verdict).
  constexpr int kBatch = 2000;
  constexpr int kOverlapsWanted = 4000;
  constexpr int kMostBatches = 50;
  constexpr auto kTryFor = 1s;
  RaceBatch total;
  const auto until = std::chrono::steady_clock::now() + kTryFor;
  testkit::finishes_within(
      60s, "rounds of add_done_callback() racing set_value()",
      [&] {
        for (int batch = 0; batch < kMostBatches; ++batch) {
          const RaceBatch one = race_add_and_complete(kBatch);
          total.rounds += one.rounds;
          total.never += one.never;
          total.twice += one.twice;
          total.overlaps += one.overlaps;
          if (total.never + total.twice > 0 || total.overlaps >= kOverlapsWanted ||
              std::chrono::steady_clock::now() >= until) {
            break;
          }
        }
      },
      "Does add_done_callback() or set_value() wait for something the other one holds?");
  EXPECT_EQ(total.never + total.twice, 0)
      << "in " << total.rounds << " rounds of add_done_callback() on one thread while "
      << "set_value() ran on another (" << total.overlaps << " of them at the same moment), "
      << "the callback never ran in " << total.never << " rounds and ran more than once in "
      << total.twice
      << ". Is there a moment, between add_done_callback() looking at whether the future is "
         "done and putting the callback in the list (or between set_value() marking it done "
         "and taking the list), when the other thread can slip in?";
}

// ---- as_completed ----------------------------------------------------------------------------

TEST_F(AsCompleted, AsCompletedHandsOutEachFutureAsSoonAsItsTaskFinishes) {
  // Four tasks on four workers, each held at a gate of its own; the test opens the gates one at
  // a time, and opens the next only once the future of the last task let go was handed out.
  constexpr int kTasks = 4;
  std::vector<std::unique_ptr<testkit::TimedBarrier>> gates;
  for (int k = 0; k < kTasks; ++k) gates.push_back(std::make_unique<testkit::TimedBarrier>(2, 5s));
  support::ThreadPool pool(kTasks);
  std::vector<IntFuture> futures;
  for (int k = 0; k < kTasks; ++k) {
    futures.push_back(kata::submit(pool, [gate = gates[k].get(), k] {
      gate->arrive_and_wait();
      return k;
    }));
  }
  Consumer consumer(kata::as_completed(futures), futures);
  const std::vector<int> release = {2, 0, 3, 1};
  std::vector<int> late;  // tasks whose future was not handed out before the next was let go
  for (std::size_t i = 0; i < release.size(); ++i) {
    gates[release[i]]->arrive_and_wait();
    // Once one is late, the rest are let go without waiting: the test has seen enough.
    if (late.empty() && !consumer.handed_out(i + 1, kPatience)) late.push_back(release[i]);
  }
  consumer.finished(kPatience);
  const std::vector<int> order = consumer.order();
  EXPECT_TRUE(late.empty())
      << "the tasks were let finish one at a time, in the order " << testkit::to_text(release)
      << ", each once the future of the one before had been handed out; the future of task "
      << (late.empty() ? -1 : late.front()) << " was not handed out within 3 s of its task's end "
      << "(then the other tasks were let go; in the end as_completed handed out "
      << testkit::to_text(order)
      << "). Does next() wait until every future is done, or for one particular future?";
  if (late.empty()) {
    EXPECT_EQ(order, release) << "the tasks finished in the order " << testkit::to_text(release)
                              << ", and as_completed handed out their futures in the order "
                              << testkit::to_text(order);
  }
  EXPECT_EQ(consumer.error(), "") << "next() threw " << consumer.error();
}

TEST_F(AsCompleted, FuturesComeOutInTheOrderTheyCompleted) {
  // Future 4 is done before as_completed is called; then futures 2, 0 and 3 complete, in that
  // order, before anyone asks for the next one. (A timeout keeps a next() that waits for
  // future 1 from hanging the test.)
  Pending pending(5);
  pending.promises[4].set_value(4);
  kata::AsCompleted<int> completed = kata::as_completed(pending.futures, kPatience);
  for (int k : {2, 0, 3}) pending.promises[k].set_value(k);
  std::vector<int> order;
  std::string thrown = "nothing";
  testkit::finishes_within(10s, "next() with 4 futures done", [&] {
    try {
      for (int i = 0; i < 4; ++i) {
        if (std::optional<IntFuture> next = completed.next()) {
          order.push_back(position_of(*next, pending.futures));
        }
      }
    } catch (...) {
      thrown = describe(std::current_exception());
    }
  });
  ASSERT_EQ(thrown, "nothing")
      << "futures 4, 2, 0 and 3 (of 0 to 4) were done, 1 was not; next() handed out "
      << testkit::to_text(order) << ", then threw " << thrown
      << ". Does next() wait until every future is done, or for one particular future?";
  EXPECT_EQ(order, (std::vector<int>{4, 2, 0, 3}))
      << "future 4 (of 0 to 4) was done before as_completed was called; then 2, 0 and 3 "
         "completed, in that order, before next() was called; four calls of next() handed out "
      << testkit::to_text(order)
      << ". Does next() pick the first done future in input order, instead of the one that "
         "completed first?";
  pending.promises[1].set_value(1);
  std::optional<IntFuture> last, end;
  testkit::finishes_within(5s, "next() with the last future done", [&] {
    last = completed.next();
    end = completed.next();
  });
  EXPECT_TRUE(last && position_of(*last, pending.futures) == 1)
      << "the last future to complete (1) was not handed out by the fifth next()";
  EXPECT_FALSE(end.has_value()) << "next() after every future had been handed out gave another";
}

TEST_F(AsCompleted, AConsumerWaitingForTheNextFutureSleeps) {
  testkit::CondWaitSpy spy;
  Pending pending(2);
  Consumer consumer(kata::as_completed(pending.futures), pending.futures,
                    [&spy] { spy.watch(testkit::this_thread_tid()); });
  std::string why;
  testkit::eventually([&] { return (why = not_asleep(consumer.tid())).empty(); }, kPatience);
  const int waits = spy.waits();
  const auto limit = spy.latest_limit();
  pending.promises[1].set_value(1);
  const bool woken = consumer.handed_out(1, kPatience);
  pending.promises[0].set_value(0);
  consumer.finished(kPatience);

  EXPECT_TRUE(why.empty())
      << "a thread waited in next() for 3 s while no future completed; it should have been "
         "asleep, but "
      << why;
  if (why.empty() && waits > 0 && limit && *limit < 1h) {
    ADD_FAILURE()
        << "a thread waiting in next() (no timeout given) slept on a condition variable with a "
           "time limit of "
        << std::chrono::duration_cast<std::chrono::milliseconds>(*limit).count()
        << " ms, so it wakes up again and again although nothing happened: does next() wait a "
           "little and look at the futures again?";
  }
  EXPECT_TRUE(woken)
      << "a future completed while a thread waited in next(), and next() did not "
         "hand it out within 3 s: what wakes the waiting thread, and what does it wait for?";
  EXPECT_EQ(consumer.order(), (std::vector<int>{1, 0}))
      << "futures 1 and 0 completed in that order; next() handed out "
      << testkit::to_text(consumer.order());
}

TEST_F(AsCompleted, EveryFutureIsHandedOutOnceIncludingDoneAndFailedOnes) {
  // No futures: nothing to wait for.
  std::optional<IntFuture> from_empty;
  int loops_over_empty = 0;
  testkit::finishes_within(5s, "next() of as_completed of no futures", [&] {
    kata::AsCompleted<int> none = kata::as_completed(std::vector<IntFuture>{});
    from_empty = none.next();
    for (const IntFuture& future : kata::as_completed(std::vector<IntFuture>{})) {
      (void)future;
      ++loops_over_empty;
    }
  });
  EXPECT_FALSE(from_empty.has_value()) << "as_completed of no futures handed out a future";
  EXPECT_EQ(loops_over_empty, 0) << "a loop over as_completed of no futures ran its body";

  // Futures 1 and 3 are done (3 with an exception) before as_completed is called; after two
  // calls of next(), 2 completes, then 0. (A timeout keeps a next() that waits for another
  // future from hanging the test.)
  Pending pending(4);
  pending.promises[1].set_value(1);
  pending.promises[3].set_exception(std::make_exception_ptr(Rejected("task 3 failed")));
  kata::AsCompleted<int> completed = kata::as_completed(pending.futures, kPatience);
  std::vector<int> order;
  std::string thrown = "nothing";
  auto take = [&](int count) {
    testkit::finishes_within(10s, "next() with a future done", [&] {
      try {
        for (int i = 0; i < count; ++i) {
          if (std::optional<IntFuture> next = completed.next()) {
            order.push_back(position_of(*next, pending.futures));
          }
        }
      } catch (...) {
        thrown = describe(std::current_exception());
      }
    });
  };
  take(2);
  pending.promises[2].set_value(2);
  take(1);
  pending.promises[0].set_value(0);
  take(1);
  std::optional<IntFuture> end, end_again;
  testkit::finishes_within(5s, "next() after the last future", [&] {
    end = completed.next();
    end_again = completed.next();
  });
  if (thrown.rfind("kata::TimeoutError", 0) == 0) {
    ADD_FAILURE() << "next() threw " << thrown << " with a future done and not handed out yet "
                  << "(after handing out " << testkit::to_text(order)
                  << "): does it wait until every future is done, or for one particular future?";
  } else {
    EXPECT_EQ(thrown, "nothing")
        << "next() threw " << thrown
        << ". A future that holds an exception is handed out like any other; its get() throws.";
  }
  const std::set<int> done_first(order.begin(),
                                 order.begin() + std::min<std::size_t>(2, order.size()));
  EXPECT_TRUE(order.size() == 4 && done_first == std::set<int>({1, 3}) && order[2] == 2 &&
              order[3] == 0)
      << "futures 1 and 3 (of 0 to 3) were done before as_completed was called; after two "
         "calls of next(), 2 completed, then 0; next() handed out "
      << testkit::to_text(order) << " (expected 1 and 3 in any order, then 2, then 0)";
  if (order.size() == 4) {
    EXPECT_FALSE(end.has_value() || end_again.has_value())
        << "next() after all 4 futures had been handed out gave another one";
  }

  // A range-for loop, over futures that are all done.
  std::vector<int> looped;
  testkit::finishes_within(5s, "a loop over as_completed of 4 done futures", [&] {
    for (const IntFuture& future : kata::as_completed(pending.futures)) {
      looped.push_back(position_of(future, pending.futures));
    }
  });
  std::sort(looped.begin(), looped.end());
  EXPECT_EQ(looped, (std::vector<int>{0, 1, 2, 3}))
      << "a for loop over as_completed of 4 done futures went over " << testkit::to_text(looped);
}

TEST_F(AsCompleted, NextGivesUpAtTheTimeoutCountedFromTheCall) {
  // Before its timeout, next() waits: a future done while it waits is handed out. (Proven by
  // the event, not the clock: the future completes once the consumer is asleep in next(); the
  // 10 s timeout is only a bound that a correct next() never reaches.)
  {
    testkit::CondWaitSpy spy;
    Pending pending(2);
    Consumer consumer(kata::as_completed(pending.futures, 10s), pending.futures,
                      [&spy] { spy.watch(testkit::this_thread_tid()); });
    testkit::eventually([&] { return not_asleep(consumer.tid()).empty(); }, kPatience);
    const auto limit = spy.latest_limit();  // what next() asked its wait to last at most
    pending.promises[1].set_value(1);
    const bool handed_out = consumer.handed_out(1, kPatience);
    pending.promises[0].set_value(0);
    consumer.finished(kPatience);
    EXPECT_TRUE(handed_out)
        << "as_completed(futures, 10 s): no future was done yet, so next() should have waited "
           "for one; a future completed while it waited, and next() "
        << (consumer.error().empty() ? std::string("did not hand it out within 3 s")
                                     : "had already given up with " + consumer.error())
        << ". Does next() throw TimeoutError as soon as no future is ready, instead of waiting "
           "until the timeout has passed?";
    if (spy.waits() > 0 && limit && *limit < 5s) {
      ADD_FAILURE()
          << "as_completed(futures, 10 s): next() began at once to wait on a condition "
             "variable for at most "
          << std::chrono::duration_cast<std::chrono::microseconds>(*limit).count()
          << " microseconds, although nearly all of the 10 s were left: does it give up (or look "
             "again) long before the timeout? Wait until the deadline the timeout set.";
    }
  }
  // Nothing completes: next() throws TimeoutError once the timeout has passed.
  {
    Pending pending(2);
    kata::AsCompleted<int> completed = kata::as_completed(pending.futures, 50ms);
    std::string what = "nothing";
    testkit::finishes_within(
        5s, "next() of as_completed(futures, 50 ms), with no future done",
        [&] {
          try {
            what = completed.next() ? "a future" : "std::nullopt";
          } catch (...) {
            what = describe(std::current_exception());
          }
        },
        "Is the timeout looked at while next() waits?");
    EXPECT_EQ(what.rfind("kata::TimeoutError", 0), 0u)
        << "with a timeout of 50 ms and no future done, next() gave " << what
        << " instead of throwing kata::TimeoutError";
  }
  // The timeout counts from the call of as_completed, as in Python: once it has passed, next()
  // with no future ready throws without waiting again.
  testkit::CondWaitSpy spy;
  Pending pending(2);
  const auto called = std::chrono::steady_clock::now();
  kata::AsCompleted<int> completed = kata::as_completed(pending.futures, 150ms);
  pending.promises[1].set_value(1);
  std::optional<IntFuture> first;
  std::string first_what = "a future";
  testkit::finishes_within(5s, "next() with a future done", [&] {
    try {
      first = completed.next();
    } catch (...) {
      first_what = describe(std::current_exception());
    }
  });
  EXPECT_TRUE(first && position_of(*first, pending.futures) == 1)
      << "future 1 was done at once and next() (timeout 150 ms) gave " << first_what
      << ": does next() wait for more than one future?";
  std::this_thread::sleep_until(called + 170ms);  // the timeout is over
  std::string what = "nothing";
  int waits = 0;
  testkit::finishes_within(
      5s, "next() after the timeout of as_completed(futures, 150 ms) has passed", [&] {
        spy.watch(testkit::this_thread_tid());
        try {
          what = completed.next() ? "a future" : "std::nullopt";
        } catch (...) {
          what = describe(std::current_exception());
        }
        waits = spy.waits();
      });
  const auto limit = spy.latest_limit();
  EXPECT_EQ(what.rfind("kata::TimeoutError", 0), 0u)
      << "next() was called 170 ms after as_completed(futures, 150 ms), with no future ready, "
         "and gave "
      << what << " instead of throwing kata::TimeoutError";
  if (waits > 0 && (!limit || *limit > 50ms)) {
    ADD_FAILURE()
        << "next() was called 170 ms after as_completed(futures, 150 ms), and it still "
           "waited on a condition variable "
        << (limit ? "for up to " +
                        std::to_string(
                            std::chrono::duration_cast<std::chrono::milliseconds>(*limit).count()) +
                        " ms"
                  : std::string("with no time limit"))
        << ": does the timeout count from each call of next() instead of from the call "
           "of as_completed?";
  }
}

TEST_F(AsCompleted, AsCompletedCanBeMovedOrDroppedBeforeItsFuturesComplete) {
  // Moved: the futures complete after the move; the moved-to object must see them. (The
  // moved-from one is still alive then, so nothing here touches a dead object.)
  {
    Pending pending(2);
    kata::AsCompleted<int> first = kata::as_completed(pending.futures, kPatience);
    std::optional<kata::AsCompleted<int>> moved;
    moved.emplace(std::move(first));
    pending.promises[1].set_value(1);
    pending.promises[0].set_value(0);
    std::vector<int> order;
    std::string what = "nothing";
    testkit::finishes_within(10s, "next() on a moved as_completed", [&] {
      try {
        while (std::optional<IntFuture> next = moved->next()) {
          order.push_back(position_of(*next, pending.futures));
        }
      } catch (...) {
        what = describe(std::current_exception());
      }
    });
    std::sort(order.begin(), order.end());
    ASSERT_EQ(order, (std::vector<int>{0, 1}))
        << "as_completed(futures) was moved into another variable; then futures 1 and 0 "
           "completed, and next() on the moved-to object handed out "
        << testkit::to_text(order) << " (next() threw " << what
        << "). Do the futures' callbacks point to the object they were made in (this)?";
  }
  // Dropped before its futures complete, and never asked: completing them later is safe, and
  // once the promises and futures are gone, nothing keeps their values.
  auto token = std::make_shared<int>(0);
  {
    std::vector<kata::Promise<std::shared_ptr<int>>> promises(2);
    std::vector<kata::Future<std::shared_ptr<int>>> futures;
    for (auto& promise : promises) futures.push_back(promise.get_future());
    { kata::AsCompleted<std::shared_ptr<int>> dropped = kata::as_completed(futures); }
    testkit::finishes_within(
        5s, "set_value() after the as_completed was dropped",
        [&] {
          for (auto& promise : promises) promise.set_value(token);
        },
        "An as_completed was destroyed before its futures completed, and their callbacks ran "
        "later. Do they use the destroyed object (this, or a pointer to something it owned)?");
  }
  EXPECT_EQ(token.use_count(), 1)
      << "every promise, future and as_completed was gone, yet " << (token.use_count() - 1)
      << " results were still kept: does something hold on to the futures after they are done, "
         "for example a callback the future keeps after running it, which holds as_completed's "
         "queue, which holds the future?";
}

}  // namespace
