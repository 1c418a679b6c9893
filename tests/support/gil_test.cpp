// Self-tests of support/gil.hpp, the GIL lessons 09 and 10 build on: one holder at a time, two
// CPU-bound threads both get to run, a requested drop hands the GIL over before the dropper may
// take it again, a drop nobody asked for does not wait, and with the GIL off threads overlap.
// Proven by structure (in-flight probe, timed barrier, exact order), never by speed.
#include "../../support/gil.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../../support/interpreter.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;
using support::Gil;
using support::GilKind;

// Each thread runs until both have run 300 units: a GIL that never changes hands leaves the
// first holder looping for ever (the deadline ends it), since the other never runs. (That only
// one thread runs bytecode at a time is tested in interpreter_test.cpp.)
TEST(Gil, TwoCpuBoundThreadsBothMakeProgress) {
  constexpr int kUnits = 300;
  Gil gil(GilKind::Modern, 1ms);
  std::array<std::atomic<int>, 2> done{};
  std::atomic<bool> both_done{false};
  support::Interpreter interpreter(gil, [&](int thread) {
    if (++done[thread] >= kUnits && done[1 - thread] >= kUnits) both_done = true;
  });
  const support::Program until_both_done{support::Cpu{1 << 30, &both_done}};
  testkit::finishes_within(20s, "two CPU-bound threads under the modern GIL", [&] {
    interpreter.run({until_both_done, until_both_done});
  });
  const Gil::Stats stats = gil.stats();
  EXPECT_GE(stats.switches, 2u) << "both threads took the GIL, so it changed hands at least twice";
  EXPECT_GE(stats.drop_requests, 1u) << "the waiting thread only gets a turn by asking for one";
}

// B waits; once its interval has run out it asks A to drop. A drops at its check point and, forced
// switching, may not take the GIL back before B has had it.
TEST(Gil, ARequestedDropHandsTheGilToTheWaiterFirst) {
  Gil gil(GilKind::Modern, 1ms);
  std::mutex order_mutex;
  std::vector<char> order;
  auto note = [&](char who) {
    std::lock_guard lock(order_mutex);
    order.push_back(who);
  };
  testkit::finishes_within(20s, "a drop requested by a waiting thread", [&] {
    gil.take(0);
    std::thread b([&] {
      gil.take(1);
      note('B');
      gil.drop(1);
    });
    const bool asked = testkit::eventually([&] { return gil.drop_requested(); }, 10s);
    gil.check(0);  // drops, waits until B has taken the GIL, then takes it again
    note('A');
    gil.drop(0);
    b.join();
    EXPECT_TRUE(asked) << "B waited 10 s for the GIL and never asked for it";
  });
  EXPECT_EQ(order, (std::vector<char>{'B', 'A'}))
      << "after a requested drop the dropper must wait until the waiter has taken the GIL";
  EXPECT_EQ(gil.stats().forced_drops, 1u);
}

// Nobody waits, nobody asked: dropping around "I/O" must not wait for a hand-off that will
// never come (the deadline would end the test, naming the wait).
TEST(Gil, AVoluntaryDropWithNoRequestReturnsAtOnce) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::finishes_within(5s, "a release around I/O with no other thread", [&] {
    gil.take(0);
    {
      support::AllowThreads io(gil, 0);
      std::this_thread::sleep_for(2ms);  // the "I/O"
    }
    gil.drop(0);
  });
  EXPECT_EQ(gil.stats().forced_drops, 0u);
}

// Two threads each hold (or, with no GIL, pretend to hold) the GIL while they meet at a barrier:
// they can meet only if nothing keeps them apart.
bool both_meet_while_holding(Gil& gil, std::chrono::milliseconds patience) {
  testkit::TimedBarrier meeting(2, patience);
  std::array<bool, 2> met{};
  std::vector<std::thread> threads;
  for (int id = 0; id < 2; ++id) {
    threads.emplace_back([&, id] {
      gil.take(id);
      met[id] = meeting.arrive_and_wait();
      gil.drop(id);
    });
  }
  for (auto& t : threads) t.join();
  return met[0] && met[1];
}

TEST(Gil, WithTheGilOffThreadsRunAtOnceAndWithItTheyDoNot) {
  Gil off(GilKind::Off);
  EXPECT_TRUE(both_meet_while_holding(off, 10s)) << "with no GIL, two threads must run together";
  Gil modern(GilKind::Modern, 1ms);
  EXPECT_FALSE(both_meet_while_holding(modern, 200ms))
      << "two threads held the modern GIL at the same moment";
}

}  // namespace
