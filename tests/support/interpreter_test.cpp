// Self-tests of support/interpreter.hpp: bytecode under the GIL never overlaps and its running
// spans are disjoint; with the GIL off two threads run bytecode at once; I/O runs with the GIL
// released, so two threads are in I/O together even under it; the trace accounts for each state.
#include "../../support/interpreter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <vector>

#include "testkit/deadline.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;
using support::Cpu;
using support::Gil;
using support::GilKind;
using support::Interpreter;
using support::Io;
using support::Program;
using support::ThreadState;

void run(Interpreter& interpreter, const std::vector<Program>& programs, const char* what) {
  testkit::finishes_within(20s, what, [&] { interpreter.run(programs); });
}

TEST(Interpreter, UnderTheTickGilBytecodeNeverOverlapsEither) {
  Gil gil(GilKind::Ticks);
  testkit::InflightProbe probe;
  Interpreter interpreter(gil, [&](int) { auto in = probe.enter(); });
  run(interpreter, {{Cpu{1500}}, {Cpu{1500}}, {Cpu{1500}}}, "three programs under the tick GIL");
  EXPECT_EQ(probe.max_in_flight(), 1);
  EXPECT_EQ(probe.entries(), 4500);
}

TEST(Interpreter, UnderTheGilBytecodeNeverOverlapsAndRunningSpansAreDisjoint) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::InflightProbe probe;
  Interpreter interpreter(gil, [&](int) { auto in = probe.enter(); });
  run(interpreter, {{Cpu{1500}}, {Cpu{1500}}}, "two CPU-bound programs under the GIL");
  EXPECT_EQ(probe.max_in_flight(), 1);
  EXPECT_EQ(probe.entries(), 3000);
  std::vector<support::Span> running;
  for (const auto& span : interpreter.trace().spans()) {
    if (span.state == ThreadState::Running) running.push_back(span);
  }
  std::sort(running.begin(), running.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  for (std::size_t i = 1; i < running.size(); ++i) {
    EXPECT_GE(running[i].start, running[i - 1].end)
        << "threads " << running[i - 1].thread << " and " << running[i].thread
        << " were both recorded running bytecode at once";
  }
  for (int thread : {0, 1}) {
    EXPECT_GT(interpreter.trace().total(thread, ThreadState::Running).count(), 0)
        << "thread " << thread << " never ran";
  }
  EXPECT_GE(gil.stats().switches, 2u);
}

// Each thread's first unit waits at a barrier for the other's: they meet only if they can run
// bytecode at the same moment.
bool first_units_meet(Gil& gil, std::chrono::milliseconds patience) {
  testkit::TimedBarrier meeting(2, patience);
  std::array<std::atomic<int>, 2> units{};
  std::array<std::atomic<bool>, 2> met{};
  Interpreter interpreter(gil, [&](int thread) {
    if (units[thread]++ == 0) met[thread] = meeting.arrive_and_wait();
  });
  run(interpreter, {{Cpu{3}}, {Cpu{3}}}, "two programs that meet in their first unit");
  return met[0] && met[1];
}

TEST(Interpreter, WithTheGilOffTwoThreadsRunBytecodeAtOnce) {
  Gil off(GilKind::Off);
  EXPECT_TRUE(first_units_meet(off, 10s));
  Gil modern(GilKind::Modern, 1ms);
  EXPECT_FALSE(first_units_meet(modern, 200ms)) << "two threads ran bytecode under one GIL";
}

TEST(Interpreter, IoRunsWithTheGilReleased) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::TimedBarrier both_in_io(2, 10s);
  std::array<std::atomic<bool>, 2> met{};
  Interpreter interpreter(gil);
  std::vector<Program> programs;
  for (int thread : {0, 1}) {
    programs.push_back(
        {Cpu{5}, Io{0us, [&, thread] { met[thread] = both_in_io.arrive_and_wait(); }}, Cpu{5}});
  }
  run(interpreter, programs, "two programs that meet during their I/O");
  EXPECT_TRUE(met[0] && met[1]) << "two threads could not be in I/O at once under the GIL: is the "
                                   "GIL released around I/O?";
  for (int thread : {0, 1}) {
    EXPECT_GT(interpreter.trace().total(thread, ThreadState::InIo).count(), 0);
  }
}

TEST(Interpreter, TheTraceAccountsForEachState) {
  Gil gil(GilKind::Modern, 1ms);
  Interpreter interpreter(gil);
  run(interpreter, {{Cpu{10}, Io{2ms, {}}, Cpu{10}}}, "one program with an I/O of 2 ms");
  const auto& trace = interpreter.trace();
  EXPECT_GE(trace.total(0, ThreadState::InIo), 2ms) << "a sleep of 2 ms lasts at least 2 ms";
  EXPECT_GT(trace.total(0, ThreadState::Running).count(), 0);
  std::vector<ThreadState> order;
  for (const auto& span : trace.spans()) {
    if (span.state != ThreadState::WaitingForGil) order.push_back(span.state);
  }
  EXPECT_EQ(order, (std::vector<ThreadState>{ThreadState::Running, ThreadState::InIo,
                                             ThreadState::Running}));
}

}  // namespace
