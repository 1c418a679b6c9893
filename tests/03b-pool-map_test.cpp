// Tests for kata 03b: map, imap_unordered and map_async on a given thread pool. map returns
// results in input order for any chunk size and queues one task per chunk; imap_unordered
// hands out results in the order they finish; map_async returns before the work is done and
// calls exactly one of its callbacks, once; the earliest input's exception reaches the caller
// with its type.
//
// Orders are chosen by the test, never left to luck or a stopwatch: a call waits for an Event
// (raised by another call, or by the test) before it returns. A wait gives up after a few
// seconds, so an implementation that never raises the event fails instead of hanging, and the
// test can say that the calls did not run together.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "pool_map.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_probe.hpp"
#include "thread_pool.hpp"

namespace {

using namespace std::chrono_literals;

class PoolMap : public testkit::LeakCheckedTest {};

constexpr auto kPatience = 3s;  // how long a call waits for its event before giving up

// Numbered one-shot events: a call waits for event k, which another call or the test raises.
class Events {
 public:
  void raise(int key) {
    std::lock_guard lock(mutex_);
    raised_.insert(key);
    changed_.notify_all();
  }

  // True once `key` has been raised; false if it was not raised within `patience` (then the
  // wait is counted as given up).
  bool wait(int key, std::chrono::milliseconds patience = kPatience) {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    const bool raised = changed_.wait_for(lock, patience, [&] { return raised_.count(key) > 0; });
    --waiting_;
    if (!raised) ++given_up_;
    return raised;
  }

  // Waits (at most `bound`) until `count` calls are waiting for an event.
  bool wait_for_waiting(int count, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return waiting_ >= count; });
  }

  int given_up() {
    std::lock_guard lock(mutex_);
    return given_up_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<int> raised_;
  int waiting_ = 0;
  int given_up_ = 0;
};

// The exception the tests' fn throws for a rejected input: a type of our own, so the test can
// tell the original from a copy squeezed into another type.
struct Rejected : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::vector<int> inputs(int count) {
  std::vector<int> xs;
  for (int x = 0; x < count; ++x) xs.push_back(x);
  return xs;
}

std::vector<int> squares(const std::vector<int>& xs) {
  std::vector<int> out;
  for (int x : xs) out.push_back(x * x);
  return out;
}

// The first input of the last chunk, when `count` inputs are cut into chunks of `chunksize`.
int last_chunk_start(int count, int chunksize) { return (count - 1) / chunksize * chunksize; }

constexpr const char* kNotTogether =
    "did not start within 3 s while the first call waited for it: are the chunks run one after "
    "another, or on the caller's thread, instead of as tasks on the pool's 2 workers?";

// ---- map -------------------------------------------------------------------------------------

TEST_F(PoolMap, MapReturnsEveryResultInInputOrderForAnyChunkSize) {
  support::ThreadPool pool(2);
  for (int count : {1, 7, 10}) {
    const std::vector<int> xs = inputs(count);
    for (std::size_t chunksize : {1, 2, 3, 7, 10, 11, 100}) {
      auto calls = std::make_shared<std::atomic<int>>(0);
      const std::vector<int> got = testkit::finishes_within(5s, "map() of 10 quick calls", [&] {
        return kata::map(
            pool,
            [calls](int x) {
              calls->fetch_add(1);
              return x * x;
            },
            xs, chunksize);
      });
      EXPECT_EQ(got, squares(xs)) << "map(square, " << testkit::to_text(xs)
                                  << ", chunksize=" << chunksize << ") returned "
                                  << testkit::to_text(got)
                                  << ": is every input's result put at its input's position?";
      EXPECT_EQ(calls->load(), count) << "map() called fn " << calls->load() << " times for "
                                      << count << " inputs (chunksize " << chunksize << ")";
    }
  }
  // Any result type, and Python's default chunk size.
  const std::vector<std::string> words =
      testkit::finishes_within(5s, "map() of 9 quick calls", [&] {
        return kata::map(
            pool, [](int x) { return "x" + std::to_string(x); }, inputs(9));
      });
  EXPECT_EQ(testkit::to_text(words), "[x0, x1, x2, x3, x4, x5, x6, x7, x8]")
      << "map() without a chunksize, with results of type std::string";
}

TEST_F(PoolMap, MapKeepsInputOrderWhenLaterChunksFinishFirst) {
  // 12 inputs on 2 workers. The call for input 0 holds its chunk until the last chunk has
  // started; by then the other worker has finished every chunk in between. Results gathered
  // in the order the chunks finish would come back with input 0's chunk after them.
  constexpr int kCount = 12;
  support::ThreadPool pool(2);
  for (int chunksize : {1, 2, 3, 4, 5}) {
    const int last_start = last_chunk_start(kCount, chunksize);
    auto events = std::make_shared<Events>();
    const std::vector<int> got = testkit::finishes_within(10s, "map() of 12 calls", [&] {
      return kata::map(
          pool,
          [events, last_start](int x) {
            if (x == last_start) events->raise(x);
            if (x == 0) events->wait(last_start);
            return x * x;
          },
          inputs(kCount), static_cast<std::size_t>(chunksize));
    });
    ASSERT_EQ(events->given_up(), 0)
        << "with chunksize " << chunksize << ", the call for input 0 waited for the call for "
        << "input " << last_start << " (the last chunk), which " << kNotTogether;
    EXPECT_EQ(got, squares(inputs(kCount)))
        << "with chunksize " << chunksize << ", input 0's chunk finished last, and map() "
        << "returned " << testkit::to_text(got)
        << ": are results gathered in the order the calls or chunks finish, rather than at "
           "their inputs' positions?";
  }
}

TEST_F(PoolMap, MapQueuesOneTaskPerChunk) {
  support::ThreadPool pool(2);
  auto tasks_for = [&](int count, std::optional<std::size_t> chunksize) {
    const std::size_t before = pool.tasks_submitted();
    testkit::finishes_within(5s, "map() of quick calls", [&] {
      kata::map(
          pool, [](int x) { return x + 1; }, inputs(count), chunksize);
    });
    return pool.tasks_submitted() - before;
  };
  const std::map<std::size_t, std::size_t> expected = {{1, 10}, {2, 5},  {3, 4},  {4, 3},
                                                       {9, 2},  {10, 1}, {11, 1}, {1000, 1}};
  for (const auto& [chunksize, tasks] : expected) {
    const std::size_t queued = tasks_for(10, chunksize);
    EXPECT_EQ(queued, tasks) << "map() of 10 inputs with chunksize " << chunksize << " queued "
                             << queued << " tasks, not ceil(10 / " << chunksize << ") = " << tasks
                             << ": is one task made per chunk of neighbouring inputs?";
  }
  // Python's default on 2 workers: divmod(100, 2 * 4) = (12, 4), so chunks of 13: 8 tasks.
  const std::size_t queued = tasks_for(100, std::nullopt);
  EXPECT_EQ(queued, 8u) << "map() of 100 inputs on 2 workers without a chunksize queued " << queued
                        << " tasks; Python would use chunks of 13 (default_chunksize), so 8 "
                           "tasks: is the default chunk size used when none is given?";
  EXPECT_EQ(tasks_for(0, std::nullopt), 0u) << "map() of no inputs queued tasks";
  EXPECT_EQ(tasks_for(0, 5), 0u) << "map() of no inputs queued tasks";
}

TEST_F(PoolMap, MapOfNoInputsReturnsNoResults) {
  support::ThreadPool pool(2);
  auto calls = std::make_shared<std::atomic<int>>(0);
  const std::vector<int> got = testkit::finishes_within(5s, "map() of no inputs", [&] {
    return kata::map(
        pool,
        [calls](int x) {
          calls->fetch_add(1);
          return x;
        },
        std::vector<int>{}, 4);
  });
  EXPECT_TRUE(got.empty()) << "map() of no inputs returned " << testkit::to_text(got);
  EXPECT_EQ(calls->load(), 0) << "map() of no inputs called fn";
}

TEST_F(PoolMap, AChunkSizeOfZeroIsAnError) {
  support::ThreadPool pool(2);
  auto square = [](int x) { return x * x; };
  const std::size_t before = pool.tasks_submitted();
  testkit::finishes_within(5s, "map(), imap_unordered() and map_async() with chunksize 0", [&] {
    EXPECT_THROW(kata::map(pool, square, inputs(4), 0), std::invalid_argument)
        << "map() with chunksize 0 did not throw std::invalid_argument. Chunks of 0 inputs "
           "cannot cover the list (Python's imap raises ValueError('Chunksize must be 1+'); "
           "its map quietly returns [None, ...]): does map look at the chunksize it is given?";
    EXPECT_THROW(kata::imap_unordered(pool, square, inputs(4), 0), std::invalid_argument)
        << "imap_unordered() with chunksize 0 did not throw std::invalid_argument";
    EXPECT_THROW(kata::map_async(pool, square, inputs(4), 0), std::invalid_argument)
        << "map_async() with chunksize 0 did not throw std::invalid_argument";
  });
  EXPECT_EQ(pool.tasks_submitted(), before) << "a call with chunksize 0 still queued tasks";
}

TEST_F(PoolMap, MapRethrowsTheEarliestInputsExceptionWithItsType) {
  // Input 3 throws Rejected, input 8 throws std::out_of_range; 8 is made to fail first:
  // the call for 3 waits until the call for 9 starts, which the other worker does only once it
  // is done with 8. map must report input 3's exception, with its own type, and the pool must
  // go on working afterwards.
  support::ThreadPool pool(2);
  auto events = std::make_shared<Events>();
  auto fn = [events](int x) {
    if (x == 9) events->raise(9);
    if (x == 3) {
      events->wait(9);
      throw Rejected("input 3 rejected");
    }
    if (x == 8) throw std::out_of_range("input 8 is out of range");
    return x * x;
  };
  std::string caught = "no exception";
  testkit::finishes_within(10s, "map() of 10 calls, two of which throw", [&] {
    try {
      kata::map(pool, fn, inputs(10), 1);
    } catch (...) {
      caught = testkit::describe_exception(std::current_exception());
    }
  });
  EXPECT_EQ(events->given_up(), 0)
      << "the call for input 3 waited for the call for input 9, which " << kNotTogether;
  EXPECT_EQ(caught, "Rejected(\"input 3 rejected\")")
      << "fn threw for input 3 (Rejected) and for input 8 (std::out_of_range, first in "
         "time); map() let through "
      << caught
      << ". The caller should get the exception of the earliest failing input, with its type: "
         "does map keep the first exception to happen, or turn it into another type?";

  const std::vector<int> after = testkit::finishes_within(5s, "map() after a failed map()", [&] {
    return kata::map(
        pool, [](int x) { return x * x; }, inputs(6), 2);
  });
  EXPECT_EQ(after, squares(inputs(6)))
      << "after a map() that threw, the next map() returned " << testkit::to_text(after);
}

TEST_F(PoolMap, MapWaitsForEveryChunkBeforeItThrows) {
  // Two workers, two chunks. Input 1's call starts first; input 0's call then throws. Input 1's
  // call holds until map() has let the exception out (too early), or until both the thread
  // that called map() and the worker that ran input 0's chunk are seen blocked: that worker is
  // done with its chunk, and a map that waits for the last chunk is still waiting. A map that
  // re-throws at the first failed chunk returns while input 1's call still runs, and that call
  // would go on using fn and map's locals after they died.
  struct Shared {
    Events events;
    std::atomic<pid_t> caller{0};
    std::atomic<pid_t> worker_of_input_0{0};
    std::atomic<bool> returned{false};
    std::atomic<int> returned_before_call_1_finished{-1};  // -1: call 1 never got that far
  };
  auto shared = std::make_shared<Shared>();
  support::ThreadPool pool(2);
  std::string caught = "no exception";
  testkit::finishes_within(10s, "map() of 2 calls, the first of which throws", [&] {
    shared->caller = testkit::this_thread_tid();
    try {
      kata::map(
          pool,
          [shared](int x) {
            auto state = shared;  // a copy: this call may outlive a map that returned early
            if (x == 0) {
              state->worker_of_input_0 = testkit::this_thread_tid();
              state->events.wait(1);  // input 1's call has started
              throw Rejected("input 0 rejected");
            }
            state->events.raise(1);
            testkit::eventually(
                [&] {
                  const pid_t worker = state->worker_of_input_0.load();
                  return state->returned.load() || (worker != 0 && testkit::blocked(worker) &&
                                                    testkit::blocked(state->caller.load()));
                },
                kPatience);
            state->returned_before_call_1_finished = state->returned.load() ? 1 : 0;
            return x;
          },
          inputs(2), 1);
    } catch (...) {
      caught = testkit::describe_exception(std::current_exception());
    }
    shared->returned = true;
  });
  pool.close();
  pool.join();
  EXPECT_EQ(shared->events.given_up(), 0)
      << "the call for input 0 waited for the call for input 1, which " << kNotTogether;
  EXPECT_EQ(caught, "Rejected(\"input 0 rejected\")") << "map() let through " << caught;
  EXPECT_EQ(shared->returned_before_call_1_finished.load(), 0)
      << "map() let input 0's exception out while the call for input 1 (another chunk) was "
         "still running: does map re-throw as soon as one chunk has failed? The other chunks "
         "still use fn, the inputs and the result slots, which die with map's stack frame.";
}

// ---- imap_unordered --------------------------------------------------------------------------

TEST_F(PoolMap, ImapUnorderedHandsOutResultsInTheOrderTheyFinish) {
  // Every call waits until the test lets it finish; the test lets them finish in a chosen
  // order and asks for the next result after each.
  struct Case {
    int chunksize;
    std::vector<int> finish_order;  // for chunks: the first input of each chunk
    std::vector<int> expected;      // results, in the order they must be handed out
  };
  const std::vector<Case> cases = {{1, {2, 0, 3, 1}, {4, 0, 9, 1}}, {2, {2, 0}, {4, 9, 0, 1}}};
  for (const Case& c : cases) {
    support::ThreadPool pool(4);
    auto events = std::make_shared<Events>();
    auto results = testkit::finishes_within(
        10s, "imap_unordered() of 4 calls that wait to be let finish",
        [&] {
          return kata::imap_unordered(
              pool,
              [events, chunksize = c.chunksize](int x) {
                events->wait(x / chunksize * chunksize);  // the chunk's first input
                return x * x;
              },
              inputs(4), static_cast<std::size_t>(c.chunksize));
        },
        "imap_unordered should return at once, before any call has finished: does it wait for "
        "the results?");
    std::vector<int> handed_out;
    for (int first : c.finish_order) {
      events->raise(first);
      for (int k = 0; k < c.chunksize; ++k) {
        const std::optional<int> next = testkit::finishes_within(10s, "next() of imap_unordered",
                                                                 [&] { return results.next(); });
        if (next) handed_out.push_back(*next);
      }
    }
    const std::optional<int> end = testkit::finishes_within(5s, "next() after the last result",
                                                            [&] { return results.next(); });
    EXPECT_FALSE(end.has_value()) << "next() after the last result gave " << *end
                                  << " instead of std::nullopt";
    if (events->given_up() > 0) {
      ADD_FAILURE() << "with chunksize " << c.chunksize << ", the calls were let finish in the "
                    << "order of inputs " << testkit::to_text(c.finish_order)
                    << ", one at a time, each only once the result before it was handed out; "
                    << events->given_up() << " calls gave up waiting and finished anyway, "
                    << "and next() handed out " << testkit::to_text(handed_out)
                    << ". Does imap_unordered (or next()) wait for results that have not been "
                       "let finish, such as all of them, or the next in input order?";
    } else {
      EXPECT_EQ(handed_out, c.expected)
          << "with chunksize " << c.chunksize << ", the calls finished in the order of inputs "
          << testkit::to_text(c.finish_order) << ", but next() handed out "
          << testkit::to_text(handed_out) << ": does it keep to the input order?";
    }
  }
}

// ---- map_async -------------------------------------------------------------------------------

struct CallbackLog {
  std::mutex mutex;
  int done_calls = 0;
  int error_calls = 0;
  std::vector<int> done_with;
  std::exception_ptr error_with;
};

TEST_F(PoolMap, MapAsyncReturnsAtOnceAndCallsOnDoneOnce) {
  support::ThreadPool pool(2);
  auto events = std::make_shared<Events>();
  auto log = std::make_shared<CallbackLog>();
  constexpr int kOpen = -1;         // the event that lets every call finish
  constexpr int kInOnDone = -2;     // raised by on_done, which then waits for:
  constexpr int kLeaveOnDone = -3;  // the test has looked at the future
  std::future<std::vector<int>> future = testkit::finishes_within(
      2s, "map_async() of 6 calls that wait to be let finish",
      [&] {
        return kata::map_async(
            pool,
            [events](int x) {
              events->wait(kOpen);
              return x * x;
            },
            inputs(6), 2,
            [log, events](const std::vector<int>& results) {
              {
                std::lock_guard lock(log->mutex);
                ++log->done_calls;
                log->done_with = results;
              }
              events->raise(kInOnDone);
              events->wait(kLeaveOnDone);
            },
            [log](std::exception_ptr error) {
              std::lock_guard lock(log->mutex);
              ++log->error_calls;
              log->error_with = error;
            });
      },
      "map_async should return at once, while its calls still run: does it wait for the "
      "results (for example by calling map)?");
  {
    std::lock_guard lock(log->mutex);
    EXPECT_EQ(log->done_calls, 0) << "on_done was called before any call had finished";
  }
  events->raise(kOpen);
  // Python calls the callback before the result is ready, so whoever waits on the result may
  // count on the callback having run. While on_done runs, the future must not be ready yet.
  const bool on_done_called = events->wait(kInOnDone);
  const bool ready_during_on_done = future.wait_for(0s) == std::future_status::ready;
  events->raise(kLeaveOnDone);
  EXPECT_TRUE(on_done_called) << "all 6 calls could finish, but on_done was not called within 3 "
                                 "s: is it called when the last chunk is done?";
  EXPECT_FALSE(ready_during_on_done)
      << "the future was ready while on_done was still running: is the promise set before "
         "on_done is called? Then a caller who waits for the result may find the callback's "
         "work not done yet.";
  std::vector<int> results = testkit::finishes_within(
      5s, "the future of map_async() once its calls may finish", [&] { return future.get(); });
  EXPECT_EQ(results, squares(inputs(6))) << "map_async's future gave " << testkit::to_text(results);
  pool.close();
  pool.join();  // every task (and callback) has ended: the counts are final
  std::lock_guard lock(log->mutex);
  EXPECT_EQ(log->done_calls, 1) << "on_done was called " << log->done_calls
                                << " times for one map_async(): is it called once per chunk?";
  EXPECT_EQ(log->error_calls, 0) << "on_error was called although no call threw";
  EXPECT_EQ(log->done_with, squares(inputs(6)))
      << "on_done received " << testkit::to_text(log->done_with);
}

TEST_F(PoolMap, MapAsyncCallsOnErrorOnceWhenCallsThrow) {
  support::ThreadPool pool(2);
  auto events = std::make_shared<Events>();
  auto log = std::make_shared<CallbackLog>();
  auto future = kata::map_async(
      pool,
      [events](int x) {
        // In chunks of 2, input 8's chunk stops at its exception; the other worker starts the
        // chunk of 10 and 11 only after that, and the call for 3 waits for it.
        if (x == 10) events->raise(10);
        if (x == 3) {
          events->wait(10);
          throw Rejected("input 3 rejected");
        }
        if (x == 8) throw std::out_of_range("input 8 is out of range");
        return x * x;
      },
      inputs(12), 2,
      [log](const std::vector<int>&) {
        std::lock_guard lock(log->mutex);
        ++log->done_calls;
      },
      [log](std::exception_ptr error) {
        std::lock_guard lock(log->mutex);
        ++log->error_calls;
        log->error_with = error;
      });
  std::string got = "no exception";
  testkit::finishes_within(10s, "the future of map_async() with two failing calls", [&] {
    try {
      future.get();
    } catch (...) {
      got = testkit::describe_exception(std::current_exception());
    }
  });
  pool.close();
  pool.join();  // every task (and callback) has ended: the counts are final

  EXPECT_EQ(events->given_up(), 0)
      << "the call for input 3 waited for the call for input 10, which " << kNotTogether;
  EXPECT_EQ(got, "Rejected(\"input 3 rejected\")")
      << "inputs 3 (Rejected) and 8 (std::out_of_range, first in time) threw; the future "
         "gave "
      << got << ": does it carry the earliest input's exception?";
  std::lock_guard lock(log->mutex);
  EXPECT_EQ(log->done_calls, 0) << "on_done was called although calls threw";
  ASSERT_EQ(log->error_calls, 1)
      << "two chunks failed and on_error was called " << log->error_calls
      << " times: it should be called once for the whole map_async. Is it called per failing "
         "chunk, or never?";
  EXPECT_EQ(testkit::describe_exception(log->error_with), "Rejected(\"input 3 rejected\")")
      << "on_error did not receive input 3's exception: does it get the first exception to "
         "happen instead of the earliest input's?";
}

TEST_F(PoolMap, MapAsyncWithNoInputsCallsOnDoneWithNoResults) {
  support::ThreadPool pool(2);
  auto log = std::make_shared<CallbackLog>();
  auto future = kata::map_async(
      pool, [](int x) { return x; }, std::vector<int>{}, std::nullopt,
      [log](const std::vector<int>& results) {
        std::lock_guard lock(log->mutex);
        ++log->done_calls;
        log->done_with = results;
      });
  const std::vector<int> results = testkit::finishes_within(
      5s, "the future of map_async() of no inputs", [&] { return future.get(); });
  pool.close();
  pool.join();
  EXPECT_TRUE(results.empty()) << "map_async() of no inputs gave " << testkit::to_text(results);
  std::lock_guard lock(log->mutex);
  EXPECT_EQ(log->done_calls, 1) << "map_async() of no inputs called on_done " << log->done_calls
                                << " times, not once";
}

// ---- what the asynchronous calls keep ---------------------------------------------------------

TEST_F(PoolMap, AsynchronousCallsWorkOnTheirOwnCopyOfTheInputs) {
  // The caller's vector changes after the call has returned, while the calls wait; fn also
  // holds a token, which nobody may keep once the work is done.
  support::ThreadPool pool(2);
  auto token = std::make_shared<int>(0);
  for (const std::string which : {"map_async", "imap_unordered"}) {
    auto events = std::make_shared<Events>();
    std::vector<int> xs = inputs(6);
    auto fn = [events, token](int x) {
      events->wait(-1);
      return x * x;
    };
    const std::string hint =
        which + " should return at once, while its calls still run: does it wait for them?";
    std::vector<int> got;
    std::optional<std::future<std::vector<int>>> future;
    std::optional<kata::UnorderedResults<int>> results;
    testkit::finishes_within(
        2s, which + "() of 6 calls that wait to be let finish",
        [&] {
          if (which == "map_async") {
            future.emplace(kata::map_async(pool, fn, xs, 3));
          } else {
            results.emplace(kata::imap_unordered(pool, fn, xs, 3));
          }
        },
        hint);
    // The first call of each chunk has read its input and waits; change the caller's inputs.
    EXPECT_TRUE(events->wait_for_waiting(2, 3s))
        << which << " had returned, but no call was running 3 s later";
    xs.assign(xs.size(), -1);
    events->raise(-1);
    testkit::finishes_within(5s, "collecting the results of " + which + "()", [&] {
      if (future) {
        got = future->get();
      } else {
        while (auto next = results->next()) got.push_back(*next);
      }
    });
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, squares(inputs(6)))
        << which << "(fn, xs) returned; then the caller's xs changed to all -1 while the calls "
        << "still ran, and the results were " << testkit::to_text(got)
        << ". The call returns before the work is done: do its tasks keep a reference to the "
           "caller's vector instead of a copy?";
  }
  EXPECT_TRUE(testkit::eventually([&] { return token.use_count() == 1; }, 2s))
      << "all the work was done, but " << (token.use_count() - 1)
      << " copies of fn (and what it captured) were still kept: does something hold on to the "
         "shared state after the last chunk, for example the state holding itself?";
}

}  // namespace
