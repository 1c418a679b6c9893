// Tests for kata 01b: map_in_threads(inputs, fn) runs every call on its own thread, returns the
// results in input order, and hands a call's exception to the caller.
//
// The order in which the calls finish is chosen by the test (FinishOrder below), so "results
// come back in input order although the threads finished in reverse" is checked the same way
// on every run instead of depending on luck.
#include <cxxabi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

#include "results_from_threads.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/timed_barrier.hpp"

using namespace std::chrono_literals;

namespace {

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

// The readable name of a type ("std::runtime_error"): type_info::name() is the mangled one
// ("St13runtime_error").
std::string type_name(const std::type_info& type) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = (status == 0 && readable != nullptr) ? readable : type.name();
  std::free(readable);
  return name;
}

std::string to_text(const std::vector<int>& values) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < values.size(); ++i) out << (i == 0 ? "" : ", ") << values[i];
  out << ']';
  return out.str();
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
    "never started. Start a thread for every input before you wait for any result.";

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
      << "got the results " << to_text(results) << " for the inputs " << to_text(inputs)
      << ", while the calls finished in the order " << to_text(order->finished())
      << ". Results must come back in input order, whatever order the threads finish in. "
         "Pushing into one shared vector records the finishing order (and is a data race, "
         "with results that can go missing), and sorting them afterwards gives sorted "
         "order, not input order. Give each input its own place for its result, e.g. its "
         "own std::future kept at the input's position.";
}

TEST_F(ResultsFromThreads, AllCallsRunAtTheSameTime) {
  constexpr int kCalls = 6;
  auto barrier = std::make_shared<testkit::TimedBarrier>(kCalls, 2s);
  const std::vector<int> inputs = {10, 20, 30, 40, 50, 60};

  const std::vector<int> results =
      testkit::finishes_within(6s, "map_in_threads with 6 calls that wait for each other", [&] {
        return kata::map_in_threads(inputs, [barrier](int x) {
          barrier->arrive_and_wait();
          return x + 1;
        });
      });

  EXPECT_TRUE(barrier->completed())
      << "each call waits (up to 2 s) until all " << kCalls << " calls are running, but only "
      << barrier->arrived() << " got there, and not together. Run each call on its own "
      << "thread and start them all before waiting for any of them.";
  EXPECT_EQ(results.size(), inputs.size())
      << "got " << results.size() << " results for " << inputs.size()
      << " inputs: results went missing. When several threads push_back into one vector at "
         "the same moment they overwrite each other's work (a data race); give each input its "
         "own place for its result.";
}

TEST_F(ResultsFromThreads, NoInputsGiveNoResults) {
  const std::vector<int> results =
      testkit::finishes_within(5s, "map_in_threads with no inputs",
                               [&] { return kata::map_in_threads({}, [](int x) { return x; }); });
  EXPECT_TRUE(results.empty()) << "no inputs should give no results, got " << to_text(results);
}

// Calls map_in_threads and returns the RejectedInput it throws (or fails the test, saying what
// arrived instead). `what` describes the call for the timeout message.
std::optional<RejectedInput> rejected_input_from(const std::string& what,
                                                 const std::vector<int>& inputs,
                                                 const std::function<int(int)>& fn) {
  try {
    const std::vector<int> results =
        testkit::finishes_within(6s, what, [&] { return kata::map_in_threads(inputs, fn); });
    ADD_FAILURE() << "map_in_threads returned normally (results " << to_text(results)
                  << ") although a call threw RejectedInput. An exception thrown on another "
                     "thread is lost unless you carry it back: std::promise::set_exception, "
                     "std::packaged_task and std::async store it, and future.get() re-throws "
                     "it in the caller.";
  } catch (const RejectedInput& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the caller got an exception of type " << type_name(typeid(e))
                  << " with message \"" << e.what()
                  << "\" instead of the RejectedInput that fn threw. Pass the original "
                     "exception on (future.get() or std::rethrow_exception do), do not wrap "
                     "it in a new one.";
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
      << ", but input 1 comes first and failed too (it just finished later). Like Python's "
         "executor.map, report the first failure in input order: collect the results in input "
         "order (future.get() one by one) and the first one that failed throws.";
}

TEST_F(ResultsFromThreads, EveryCallHasFinishedWhenTheExceptionArrives) {
  // Input 0 throws at once; the others start only after that and take a moment longer.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    bool thrown = false;
    std::atomic<int> finished{0};
  };
  auto shared = std::make_shared<Shared>();
  const auto rejected = rejected_input_from(
      "map_in_threads where input 0 throws", {0, 1, 2, 3, 4, 5}, [shared](int x) {
        if (x == 0) {
          std::lock_guard lock(shared->mutex);
          shared->thrown = true;
          shared->changed.notify_all();
          throw RejectedInput(x);
        }
        {
          std::unique_lock lock(shared->mutex);
          shared->changed.wait_for(lock, 2s, [&] { return shared->thrown; });
        }
        std::this_thread::sleep_for(20ms);
        shared->finished.fetch_add(1);
        return x;
      });
  const int finished = shared->finished.load();
  EXPECT_EQ(finished, 5)
      << "the exception reached the caller while " << 5 - finished
      << " of the other 5 calls were still running. Wait for (join) every thread before you "
         "re-throw: the caller must not get control back while work it started goes on.";
}

}  // namespace
