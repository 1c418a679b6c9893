// Tests for kata 01b: map_in_threads(inputs, fn) runs every call on its own thread, returns the
// results in input order, and hands a call's exception (of any type) to the caller.
//
// The order in which the calls finish is chosen by the test (FinishOrder below), so "results
// come back in input order although the threads finished in reverse" is checked the same way
// on every run instead of depending on luck. "Every call has finished when the exception
// arrives" holds each call until map_in_threads waits to join its thread (testkit::waits_to_join
// reads that from /proc). And testkit::FailThreadStarts shows what map_in_threads does when no
// thread can be started, the one situation in which std::async's default policy runs a call on
// the caller's thread (in libstdc++).
#include <cxxabi.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "results_from_threads.hpp"
#include "testkit/cores.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/thread_starts.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

class ResultsFromThreads : public testkit::LeakCheckedTest {};

// The exception the tests' fn throws: a type of our own, so the test can tell whether the
// caller got the original exception or a copy squeezed into some other type.
class RejectedInput : public std::invalid_argument {
 public:
  explicit RejectedInput(int input)
      : std::invalid_argument("input " + std::to_string(input) + " rejected"), input_(input) {}
  int input() const { return input_; }

 private:
  int input_;
};

// C++ can throw a value of any type (throw 42;), not only a std::exception.
struct NotAStdException {
  int input;
};

// The readable name of a type ("std::runtime_error"): type_info::name() is the mangled one
// ("St13runtime_error").
std::string type_name(const std::type_info& type) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = (status == 0 && readable != nullptr) ? readable : type.name();
  std::free(readable);
  return name;
}

// Makes the calls finish in a chosen order: a call may finish only after the call before it
// in `order` has finished. If a call waits longer than `patience` (its predecessor never
// started: the calls are not running at the same time), the order is abandoned and nobody
// waits any more, so a sequential implementation fails quickly instead of hanging.
class FinishOrder {
 public:
  FinishOrder(std::vector<int> order, std::chrono::milliseconds patience)
      : order_(std::move(order)), patience_(patience) {}

  // Blocks until it is `input`'s turn to finish. False if the order was abandoned.
  bool wait_for_turn(int input) {
    std::unique_lock lock(mutex_);
    const bool turn = changed_.wait_for(lock, patience_, [&] {
      return abandoned_ || (next_ < order_.size() && order_[next_] == input);
    });
    if (!turn) {
      abandoned_ = true;
      changed_.notify_all();
    }
    return !abandoned_;
  }

  // Records that `input`'s call finished; lets the next one in the order go.
  void done(int input) {
    std::lock_guard lock(mutex_);
    finished_.push_back(input);
    if (next_ < order_.size() && order_[next_] == input) ++next_;
    changed_.notify_all();
  }

  bool kept() const {
    std::lock_guard lock(mutex_);
    return !abandoned_;
  }

  std::vector<int> finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  const std::vector<int> order_;
  const std::chrono::milliseconds patience_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t next_ = 0;
  bool abandoned_ = false;
  std::vector<int> finished_;
};

constexpr const char* kNotTogether =
    "the calls did not all run at the same time: a call waited 2 s for another call that "
    "never started. Is every input's thread started before you wait for any result?";

TEST_F(ResultsFromThreads, ResultsComeBackInInputOrderEvenWhenTheyFinishInReverse) {
  // Neither the inputs nor their squares are sorted, so only input order gives the expected
  // results: not the finishing order (reversed), and not sorting the results afterwards.
  const std::vector<int> inputs = {3, 8, 1, 6, 2, 7, 5, 4};
  auto order = std::make_shared<FinishOrder>(std::vector<int>{4, 5, 7, 2, 6, 1, 8, 3}, 2s);

  const std::vector<int> results =
      testkit::finishes_within(6s, "map_in_threads with 8 calls finishing in reverse order", [&] {
        return kata::map_in_threads(inputs, [order](int x) {
          order->wait_for_turn(x);
          const int square = x * x;
          order->done(x);
          return square;
        });
      });

  EXPECT_TRUE(order->kept()) << kNotTogether;
  EXPECT_EQ(results, (std::vector<int>{9, 64, 1, 36, 4, 49, 25, 16}))
      << "got the results " << testkit::to_text(results) << " for the inputs "
      << testkit::to_text(inputs) << ", while the calls finished in the order "
      << testkit::to_text(order->finished())
      << ". Results must come back in input order, whatever order the threads finish in. Do "
         "the threads push their results into one shared vector (that records the finishing "
         "order, and is a data race), or are the results sorted afterwards (sorted order is not "
         "input order)?";
}

TEST_F(ResultsFromThreads, AllCallsRunAtTheSameTime) {
  // More calls than cores: one thread per core is not one thread per input.
  const int calls = testkit::more_calls_than_cores();
  auto barrier = std::make_shared<testkit::TimedBarrier>(calls, 2s);
  std::vector<int> inputs;
  for (int i = 1; i <= calls; ++i) inputs.push_back(10 * i);

  const std::vector<int> results =
      testkit::finishes_within(6s, "map_in_threads with calls that wait for each other", [&] {
        return kata::map_in_threads(inputs, [barrier](int x) {
          barrier->arrive_and_wait();
          return x + 1;
        });
      });

  EXPECT_TRUE(barrier->completed())
      << "each call waits (up to 2 s) until all " << calls << " calls are running, but only "
      << barrier->arrived() << " got there, and not together (there are more calls than this "
      << "machine has cores). Does each call run on a thread of its own, and are they all "
         "started before you wait for any of them?";
  EXPECT_EQ(results.size(), inputs.size())
      << "got " << results.size() << " results for " << inputs.size()
      << " inputs: results went missing. Do several threads push_back into one vector at the "
         "same moment? They overwrite each other's work (a data race).";
}

TEST_F(ResultsFromThreads, NoInputsGiveNoResults) {
  const std::vector<int> results =
      testkit::finishes_within(5s, "map_in_threads with no inputs",
                               [&] { return kata::map_in_threads({}, [](int x) { return x; }); });
  EXPECT_TRUE(results.empty()) << "no inputs should give no results, got "
                               << testkit::to_text(results);
}

// Calls map_in_threads and returns the RejectedInput it throws (or fails the test, saying what
// arrived instead). `what` describes the call for the timeout message. If `caller` is given,
// it receives the kernel id of the thread that calls map_in_threads.
std::optional<RejectedInput> rejected_input_from(const std::string& what,
                                                 const std::vector<int>& inputs,
                                                 const std::function<int(int)>& fn,
                                                 std::atomic<pid_t>* caller = nullptr) {
  try {
    const std::vector<int> results = testkit::finishes_within(6s, what, [&] {
      if (caller != nullptr) caller->store(testkit::this_thread_tid());
      return kata::map_in_threads(inputs, fn);
    });
    ADD_FAILURE() << "map_in_threads returned normally (results " << testkit::to_text(results)
                  << ") although a call threw RejectedInput. Was the exception caught on its "
                     "thread and dropped there? Nothing carries an exception from one thread to "
                     "another unless you hand it over.";
  } catch (const RejectedInput& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the caller got an exception of type " << type_name(typeid(e))
                  << " with message \"" << e.what()
                  << "\" instead of the RejectedInput that fn threw. Was it caught and wrapped "
                     "in a new exception on its way?";
  } catch (...) {
    ADD_FAILURE() << "the caller got something that is not a std::exception instead of the "
                     "RejectedInput that fn threw.";
  }
  return std::nullopt;
}

TEST_F(ResultsFromThreads, ACallsExceptionReachesTheCallerWithItsTypeAndMessage) {
  const auto rejected = rejected_input_from("map_in_threads where the call for input 3 throws",
                                            {0, 1, 2, 3, 4, 5}, [](int x) {
                                              if (x == 3) throw RejectedInput(x);
                                              return x;
                                            });
  if (!rejected) return;
  EXPECT_EQ(rejected->input(), 3) << "the exception arrived, but not the one fn(3) threw";
  EXPECT_STREQ(rejected->what(), "input 3 rejected")
      << "the exception's message changed on its way to the caller";
}

// A NotAStdException that escapes the thread running fn ends the program (std::terminate)
// before the test can report anything; testkit::TerminateNote says first what that means.
std::string explain_escaped(std::exception_ptr escaped) {
  if (!testkit::holds<NotAStdException>(escaped)) return "";
  return "fn(3) threw a value that is not a std::exception (C++ can throw any type, even "
         "throw 42;), and it ended the program on the thread that ran the call instead of "
         "reaching the caller of map_in_threads. Does that thread catch only std::exception?";
}

TEST_F(ResultsFromThreads, AnExceptionOfAnyTypeReachesTheCaller) {
  testkit::TerminateNote note(explain_escaped);
  try {
    const std::vector<int> results = testkit::finishes_within(
        6s, "map_in_threads where the call for input 3 throws a NotAStdException", [] {
          return kata::map_in_threads({0, 1, 2, 3, 4, 5}, [](int x) {
            if (x == 3) throw NotAStdException{x};
            return x;
          });
        });
    ADD_FAILURE() << "map_in_threads returned normally (results " << testkit::to_text(results)
                  << ") although the call for input 3 threw a NotAStdException (a type that is "
                     "not derived from std::exception). Was it caught on its thread and dropped?";
  } catch (const NotAStdException& e) {
    EXPECT_EQ(e.input, 3) << "the exception arrived, but not the one fn(3) threw";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the caller got a " << type_name(typeid(e)) << " (\"" << e.what()
                  << "\") instead of the NotAStdException that fn(3) threw: was it caught and "
                     "replaced on its way?";
  }
}

TEST_F(ResultsFromThreads, WhenSeveralCallsThrowTheFirstInInputOrderWins) {
  // Inputs 1 and 4 throw; the calls finish in reverse order, so 4 fails before 1 does.
  auto order = std::make_shared<FinishOrder>(std::vector<int>{5, 4, 3, 2, 1, 0}, 2s);
  const auto rejected = rejected_input_from("map_in_threads where inputs 1 and 4 throw",
                                            {0, 1, 2, 3, 4, 5}, [order](int x) {
                                              order->wait_for_turn(x);
                                              order->done(x);
                                              if (x == 1 || x == 4) throw RejectedInput(x);
                                              return x;
                                            });
  EXPECT_TRUE(order->kept()) << kNotTogether;
  if (!rejected) return;
  EXPECT_EQ(rejected->input(), 1)
      << "the caller got the exception of input " << rejected->input()
      << ", but input 1 comes first and failed too (it just finished later). Is the exception "
         "that reaches the caller the first one in time, rather than the first one in input "
         "order (which is what Python's executor.map reports)?";
}

TEST_F(ResultsFromThreads, EveryCallHasFinishedWhenTheExceptionArrives) {
  // Input 0 throws at once. Every other call lasts until map_in_threads waits to join its
  // thread (or until the exception has reached the test, or 2 s have passed): a map_in_threads
  // that lets the exception out before joining every thread is caught every time.
  struct Shared {
    std::atomic<pid_t> caller{0};
    std::atomic<bool> arrived{false};
    std::atomic<int> finished{0};
  };
  auto shared = std::make_shared<Shared>();
  const auto rejected = rejected_input_from(
      "map_in_threads where input 0 throws and the others end when joined", {0, 1, 2, 3, 4, 5},
      [shared](int x) {
        if (x == 0) throw RejectedInput(x);
        const pthread_t self = pthread_self();
        testkit::eventually(
            [&] {
              return shared->arrived.load() || testkit::waits_to_join(shared->caller.load(), self);
            },
            2s);
        shared->finished.fetch_add(1);
        return x;
      },
      &shared->caller);
  const int finished = shared->finished.load();
  shared->arrived.store(true);
  EXPECT_EQ(finished, 5)
      << "the exception reached the caller while " << 5 - finished
      << " of the other 5 calls were still running (each call here lasts until its thread is "
         "joined). Did the exception leave map_in_threads before every thread was joined? The "
         "caller must not get control back while work it started goes on.";
}

TEST_F(ResultsFromThreads, WhenNoThreadCanStartNoCallRunsOnTheCallersThread) {
  // testkit::FailThreadStarts makes every thread start by the caller fail, as on a machine
  // with no room for another thread. Then no call can have a thread of its own: the failure
  // must reach the caller, and no call may quietly run on the caller's thread instead (which is
  // what std::async's default policy does in libstdc++ when it cannot start a thread).
  struct Shared {
    std::atomic<pid_t> caller{0};
    std::mutex mutex;
    std::vector<int> on_caller;  // inputs whose call ran on the caller's thread
  };
  auto shared = std::make_shared<Shared>();
  bool returned = false;
  int refused = 0;
  testkit::finishes_within(6s, "map_in_threads while no thread can be started", [&] {
    shared->caller.store(testkit::this_thread_tid());
    testkit::FailThreadStarts no_threads;
    try {
      (void)kata::map_in_threads({0, 1, 2, 3}, [shared](int x) {
        if (testkit::this_thread_tid() == shared->caller.load()) {
          std::lock_guard lock(shared->mutex);
          shared->on_caller.push_back(x);
        }
        return x;
      });
      returned = true;
    } catch (...) {
      returned = false;
    }
    refused = no_threads.refused();
  });

  std::lock_guard lock(shared->mutex);
  EXPECT_TRUE(shared->on_caller.empty())
      << "no thread could be started (" << refused << " attempt(s) refused), and fn ran for "
      << "the inputs " << testkit::to_text(shared->on_caller)
      << " on the thread that called map_in_threads instead, one after another: no call ran on "
         "a thread of its own, and nobody was told. Did you leave std::async free to choose how "
         "to run each call?";
  if (shared->on_caller.empty()) {
    EXPECT_FALSE(returned) << "map_in_threads returned normally although no thread could be "
                              "started for any call: was the failure to start a thread caught "
                              "and dropped?";
  }
}

}  // namespace
