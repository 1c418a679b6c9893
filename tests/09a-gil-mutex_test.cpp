// Tests for kata 09a: Gil counts its switches, lets one thread run bytecode at a time, and takes
// turns like CPython's GIL since 3.2: a waiter asks after one switch interval, the holder lets go
// at its next check point and does not take the GIL back before the waiter has had it, so two
// CPU-bound threads both make progress; a drop nobody asked for does not wait.
//
// Proven by structure (an in-flight probe, the order of events, counts), with a 1 ms switch
// interval and deadlines that are failure bounds, never targets.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gil_mutex.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"

namespace {

using namespace std::chrono_literals;
using kata::Gil;

class GilMutex : public testkit::LeakCheckedTest {};

// How long a waiter may take to ask for the GIL, with a 1 ms interval (a failure bound).
constexpr auto kPatience = 2s;

// A unit of "bytecode": a few microseconds of arithmetic the compiler cannot drop.
void bytecode_unit() {
  volatile unsigned x = 0;
  for (unsigned i = 0; i < 2000; ++i) x = x + i;
}

constexpr const char* kDropWaitsForNobody =
    "drop() waited for another thread to take the GIL, and none was waiting: wait only after a "
    "drop that was asked for (drop_requested() was true when it dropped).";

constexpr const char* kHoldsForEver =
    "A thread that holds the GIL and keeps computing must let go when asked: does check() look "
    "at the drop request, and does anyone ever set it (a waiter whose interval ran out)?";

TEST_F(GilMutex, EveryTakeByAnotherThreadCountsOneSwitch) {
  Gil gil(1ms);
  EXPECT_EQ(gil.switch_number(), 0u) << "a new GIL has had no holder yet";
  testkit::finishes_within(
      5s, "take() and drop() by one thread, then by another, with nobody waiting",
      [&] {
        gil.take(7);
        gil.drop(7);
        gil.take(7);
        EXPECT_EQ(gil.switch_number(), 1u)
            << "thread 7 took the GIL twice in a row: only the first take is a switch";
        gil.drop(7);
        gil.take(8);
        EXPECT_EQ(gil.switch_number(), 2u)
            << "thread 8 took the GIL after thread 7: one more switch";
        EXPECT_EQ(gil.last_holder(), 8);
        EXPECT_FALSE(gil.drop_requested()) << "nobody ever waited, so nobody asked for a drop";
        gil.drop(8);
      },
      kDropWaitsForNobody);
}

TEST_F(GilMutex, OnlyOneThreadRunsBytecodeAtATime) {
  Gil gil(1ms);
  testkit::InflightProbe probe;
  testkit::finishes_within(
      5s, "3 threads running 1500 units of bytecode each",
      [&] {
        std::vector<std::thread> threads;
        for (int id = 0; id < 3; ++id) {
          threads.emplace_back([&, id] {
            gil.take(id);
            for (int unit = 0; unit < 1500; ++unit) {
              {
                auto in = probe.enter();
                bytecode_unit();
              }
              gil.check(id);
            }
            gil.drop(id);
          });
        }
        for (auto& t : threads) t.join();
      },
      kHoldsForEver);
  EXPECT_EQ(probe.max_in_flight(), 1)
      << probe.max_in_flight() << " threads ran bytecode at the same moment: between take() "
      << "and drop() (or check()) a thread must be the only holder";
}

TEST_F(GilMutex, AWaiterAsksTheHolderToLetGo) {
  Gil gil(1ms);
  bool asked = false;
  testkit::finishes_within(
      5s, "a holder and a thread waiting for the GIL",
      [&] {
        gil.take(0);
        std::thread waiter([&] {
          gil.take(1);
          gil.drop(1);
        });
        asked = testkit::eventually([&] { return gil.drop_requested(); }, kPatience);
        gil.check(0);  // lets thread 1 have the GIL, if it asked
        gil.drop(0);
        waiter.join();
      },
      "Does check() or drop() wait for a hand-off that never comes?");
  EXPECT_TRUE(asked) << "thread 1 waited " << std::chrono::seconds(kPatience).count()
                     << " s for the GIL (the switch interval is 1 ms) and never asked for it. "
                        "A waiter waits one interval at a time; if the GIL is still held and "
                        "switch_number() did not move meanwhile, it sets the drop request";
}

TEST_F(GilMutex, AfterARequestedDropTheWaiterGoesFirst) {
  Gil gil(1ms);
  std::mutex order_mutex;
  std::string order;
  auto note = [&](char who) {
    std::lock_guard lock(order_mutex);
    order += who;
  };
  bool asked = false;
  testkit::finishes_within(
      5s, "a holder that lets go at a check point and takes the GIL back",
      [&] {
        gil.take(0);
        std::thread waiter([&] {
          gil.take(1);
          note('1');
          gil.drop(1);
        });
        asked = testkit::eventually([&] { return gil.drop_requested(); }, kPatience);
        gil.check(0);  // drops the GIL and takes it again
        note('0');
        gil.drop(0);
        waiter.join();
      },
      "Does check() wait, after its drop, for a thread that never comes?");
  ASSERT_TRUE(asked) << "thread 1 never asked for the GIL (see AWaiterAsksTheHolderToLetGo)";
  EXPECT_EQ(order, "10")
      << "thread 0 let go at its check point and took the GIL back before thread 1, which had "
         "asked for it, ever had it: on two cores the thread that lets go is still running and "
         "wins the race. Forced switching: after a requested drop, wait until last_holder() is "
         "another thread before taking the GIL again";
  EXPECT_EQ(gil.switch_number(), 3u) << "0, then 1, then 0 again: three switches";
}

// Each thread computes until both have run 300 units: under a GIL that never changes hands the
// first holder loops for ever, since the other never gets a turn.
TEST_F(GilMutex, TwoCpuBoundThreadsBothMakeProgress) {
  constexpr int kUnits = 300;
  Gil gil(1ms);
  std::array<std::atomic<int>, 2> done{};
  testkit::finishes_within(
      3s, "two CPU-bound threads that each need the other to make progress",
      [&] {
        std::vector<std::thread> threads;
        for (int id = 0; id < 2; ++id) {
          threads.emplace_back([&, id] {
            gil.take(id);
            while (done[0] < kUnits || done[1] < kUnits) {
              bytecode_unit();
              ++done[id];
              gil.check(id);
            }
            gil.drop(id);
          });
        }
        for (auto& t : threads) t.join();
      },
      kHoldsForEver);
  EXPECT_GE(gil.switch_number(), 2u);
}

TEST_F(GilMutex, ADropNobodyAskedForDoesNotWait) {
  Gil gil(1ms);
  testkit::finishes_within(
      5s, "take(), drop() and take() again by one thread, with no other thread",
      [&] {
        gil.take(0);
        gil.drop(0);  // around I/O, say: no request, so no hand-off to wait for
        gil.take(0);
        gil.drop(0);
      },
      kDropWaitsForNobody);
}

}  // namespace
