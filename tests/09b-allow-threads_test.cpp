// Tests for kata 09b: blocking_call() runs a blocking call with the GIL released, so that the
// blocking calls of several threads are in progress at the same moment, and hands the caller
// back the GIL afterwards, with the call's result or its exception.
//
// Proven by structure: a timed barrier inside the blocking calls (they meet only if none holds
// the GIL), and one after them (held again, two threads can never meet there).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "allow_threads.hpp"
#include "gil.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;
using support::Gil;
using support::GilKind;

class AllowThreads : public testkit::LeakCheckedTest {};

constexpr int kThreads = 4;

// Runs body(thread) on kThreads threads, each holding the GIL around its body.
template <typename Body>
void on_threads_holding_the_gil(Gil& gil, const char* what, Body body) {
  testkit::finishes_within(20s, what, [&] {
    std::vector<std::thread> threads;
    for (int id = 0; id < kThreads; ++id) {
      threads.emplace_back([&, id] {
        gil.take(id);
        body(id);
        gil.drop(id);
      });
    }
    for (auto& t : threads) t.join();
  });
}

TEST_F(AllowThreads, TheCallsResultComesBack) {
  Gil gil(GilKind::Modern, 1ms);
  gil.take(0);
  const std::string got = kata::blocking_call(gil, 0, [] { return std::string("42 bytes"); });
  EXPECT_EQ(got, "42 bytes") << "blocking_call() must return what the call returned";
  EXPECT_TRUE(gil.held() && gil.last_holder() == 0)
      << "after blocking_call() the caller must hold the GIL again: its next bytecode needs it";
  gil.drop(0);
}

TEST_F(AllowThreads, BlockingCallsOfFourThreadsAreInProgressAtOnce) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::TimedBarrier all_blocked(kThreads, 2s);
  std::array<std::atomic<bool>, kThreads> met{};
  on_threads_holding_the_gil(gil, "four threads making a blocking call each", [&](int id) {
    kata::blocking_call(gil, id, [&] { met[id] = all_blocked.arrive_and_wait(); });
  });
  for (int id = 0; id < kThreads; ++id) {
    EXPECT_TRUE(met[id]) << "thread " << id << "'s blocking call waited 2 s for the other three "
                         << "threads' calls to be in progress too, and they never were: a "
                            "thread that blocks while it holds the GIL stops every other thread. "
                            "Is the GIL dropped before the call?";
  }
}

TEST_F(AllowThreads, AfterTheCallTheCallerHoldsTheGilAgain) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::TimedBarrier after(kThreads, 300ms);
  std::array<std::atomic<bool>, kThreads> met{};
  on_threads_holding_the_gil(gil, "four threads running bytecode after a blocking call",
                             [&](int id) {
                               kata::blocking_call(gil, id, [] {});
                               // "bytecode" that needs the GIL: no two threads can be here at once
                               met[id] = after.arrive_and_wait();
                             });
  int together = 0;
  for (int id = 0; id < kThreads; ++id) together += met[id] ? 1 : 0;
  EXPECT_EQ(together, 0) << "the four threads met after their blocking calls, where each should "
                            "hold the GIL: is the GIL taken back when the call returns?";
}

TEST_F(AllowThreads, AnExceptionFromTheCallReachesTheCallerWithTheGilHeld) {
  Gil gil(GilKind::Modern, 1ms);
  gil.take(3);
  EXPECT_THROW(kata::blocking_call(gil, 3, []() -> int { throw std::runtime_error("EOF"); }),
               std::runtime_error);
  EXPECT_TRUE(gil.held() && gil.last_holder() == 3)
      << "the call threw, and blocking_call() left without taking the GIL back: take it back "
         "in a destructor (RAII), which runs also when an exception leaves the scope";
  gil.drop(3);
}

TEST_F(AllowThreads, TheGilIsReleasedOnlyForTheCall) {
  Gil gil(GilKind::Modern, 1ms);
  gil.take(0);
  bool held_during = true;
  kata::blocking_call(gil, 0, [&] { held_during = gil.held(); });
  EXPECT_FALSE(held_during) << "the GIL was held while the blocking call ran";
  EXPECT_TRUE(gil.held()) << "the GIL was still free after the blocking call returned";
  gil.drop(0);
}

}  // namespace
