// Tests for kata 09c: execute() runs bytecode only while its thread holds the GIL, offers the
// GIL at every backward jump and releases it around blocking calls; so under a GIL the bytecode
// of two threads never overlaps while their blocking calls do, and with the GIL off both overlap.
//
// Proven by structure. The tracer runs inside the bytecode: an in-flight probe there counts how
// many threads run bytecode at once. Each thread's first instruction waits (bounded) until the
// other thread either runs bytecode too (overlap: the probe reads 2) or is known to wait for
// the GIL (the GIL counted a wait): the answer comes from events, never from a sleep. The
// turn-taking test has a thread loop until another thread has finished, and stops it early if
// it passes three back edges while a drop request is pending.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eval_loop.hpp"
#include "gil.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;
using kata::Code;
using kata::Host;
using kata::Op;
using support::Gil;
using support::GilKind;

class EvalLoop : public testkit::LeakCheckedTest {};

const std::string kHangHint =
    "a thread waits for the GIL that another thread never lets go: does execute() drop it when "
    "it returns, and at a backward jump when asked (gil.check)?";

// acc counts down from n to 0: two instructions per turn of the loop, one backward jump each.
Code countdown(long n) {
  return {{Op::Set, n}, {Op::Add, -1}, {Op::JumpIfNotZero, 1}, {Op::Return}};
}

// Calls function 0 again and again until it returns 0.
const Code kCallUntilZero = {{Op::Call, 0}, {Op::JumpIfNotZero, 0}, {Op::Return}};

// Runs code[i] with host[i] on thread i (GIL thread i), all at once; returns their results.
std::vector<long> run_together(Gil& gil, const std::vector<Code>& code,
                               const std::vector<Host>& host, const std::string& what) {
  std::vector<long> results(code.size(), -1);
  testkit::finishes_within(
      5s, what,
      [&] {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < code.size(); ++i) {
          threads.emplace_back(
              [&, i] { results[i] = kata::execute(gil, static_cast<int>(i), code[i], host[i]); });
        }
        for (auto& t : threads) t.join();
      },
      kHangHint);
  return results;
}

TEST_F(EvalLoop, RunsAProgramToItsReturn) {
  Gil gil(GilKind::Modern, 1ms);
  int executed = 0;
  Host host{{[](long acc) { return acc * 2; }}, [&](std::size_t) { ++executed; }};
  const Code code = {{Op::Set, 10}, {Op::Add, -1}, {Op::JumpIfNotZero, 1},
                     {Op::Set, 21}, {Op::Call, 0}, {Op::Return}};
  const long result = testkit::finishes_within(
      2s, "execute() on one thread", [&] { return kata::execute(gil, 0, code, host); }, kHangHint);
  EXPECT_EQ(result, 42) << "set 10, count down to 0, set 21, double it: the program returns 42";
  EXPECT_EQ(executed, 24) << "the tracer must be called once before each instruction executed: "
                             "1 + 10 turns of 2 + 3";
  EXPECT_FALSE(gil.held()) << "execute() returned with the GIL still held: no other thread could "
                              "ever run bytecode again";
}

TEST_F(EvalLoop, EveryInstructionRunsWithTheGilHeld) {
  Gil gil(GilKind::Modern, 1ms);
  std::vector<std::size_t> without;
  Host host{{[](long acc) { return acc; }}, [&](std::size_t pc) {
              if (!(gil.held() && gil.last_holder() == 7)) without.push_back(pc);
            }};
  const Code code = {
      {Op::Set, 3}, {Op::Add, -1}, {Op::JumpIfNotZero, 1}, {Op::Call, 0}, {Op::Return}};
  testkit::finishes_within(
      2s, "execute() on one thread", [&] { return kata::execute(gil, 7, code, host); }, kHangHint);
  ASSERT_TRUE(without.empty())
      << without.size() << " instructions (the first at pc " << without.front()
      << ") ran while thread 7 did not hold the GIL: bytecode touches the interpreter's shared "
         "objects, so execute() must take the GIL before its first instruction and keep it "
         "until Return";
}

TEST_F(EvalLoop, AQuickCallRunsWithTheGilHeld) {
  Gil gil(GilKind::Modern, 1ms);
  bool held = false;
  const Host host{{[&](long acc) {
                    held = gil.held() && gil.last_holder() == 3;
                    return acc;
                  }},
                  {}};  // no tracer: the GIL is the loop's business, not the tracer's
  testkit::finishes_within(
      2s, "execute() on one thread",
      [&] {
        return kata::execute(gil, 3, {{Op::Set, 1}, {Op::Call, 0}, {Op::Return}}, host);
      },
      kHangHint);
  EXPECT_TRUE(held) << "a Call ran while thread 3 did not hold the GIL: a quick C function (len(), "
                       "a dict lookup) touches objects like any bytecode. Hold the GIL for the "
                       "whole run, whether or not a tracer is set; release it only around "
                       "CallBlocking";
}

// Thread 0 returns while thread 1 waits for the GIL and has asked for it: thread 0's drop at
// Return hands the GIL over. A second drop would then take it from thread 1.
TEST_F(EvalLoop, ReturnLetsTheGilGoExactlyOnce) {
  Gil gil(GilKind::Modern, 1ms);
  std::atomic<bool> zero_in_call{false};
  std::atomic<bool> zero_returned{false};
  bool zero_held = false;
  bool one_held_after = false;
  const Host first{{[&](long) -> long {
                     zero_held = gil.held() && gil.last_holder() == 0;
                     zero_in_call = true;
                     if (zero_held)
                       testkit::eventually([&] { return gil.drop_requested(); }, 2000ms);
                     return 0;
                   }},
                   {}};
  const Host second{{[&](long) -> long {
                      testkit::eventually([&] { return zero_returned.load(); }, 2000ms);
                      one_held_after = gil.held() && gil.last_holder() == 1;
                      return 0;
                    }},
                    {}};
  const Code call = {{Op::Call, 0}, {Op::Return}};
  testkit::finishes_within(
      5s, "two threads, one returning while the other waits for the GIL",
      [&] {
        std::thread zero([&] {
          kata::execute(gil, 0, call, first);
          zero_returned = true;
        });
        testkit::eventually([&] { return zero_in_call.load(); }, 2000ms);  // thread 0 first
        std::thread one([&] { kata::execute(gil, 1, call, second); });
        one.join();
        zero.join();
      },
      kHangHint);
  ASSERT_TRUE(zero_held) << "thread 0 ran a Call without holding the GIL: make "
                            "AQuickCallRunsWithTheGilHeld pass first";
  EXPECT_TRUE(one_held_after)
      << "thread 1 took the GIL when thread 0 returned, but lost it again while it was still "
         "running its Call: did thread 0 drop the GIL twice (a destructor that drops, and a "
         "drop() at Return as well)? Drop it exactly once, however execute() ends";
}

// Two threads count down under `kind`; returns the most that ever ran bytecode at once.
int most_running_bytecode_at_once(GilKind kind) {
  Gil gil(kind, 1ms);
  testkit::InflightProbe probe;
  std::array<std::atomic<bool>, 2> started{};
  std::vector<Host> host(2);
  for (std::size_t i = 0; i < 2; ++i) {
    host[i].tracer = [&, i](std::size_t) {
      const auto in = probe.enter();
      if (started[i].exchange(true)) return;
      // The first instruction waits until the other thread runs bytecode too, or waits for the
      // GIL. Under a GIL one of the two always happens; the deadline is only a failure bound.
      testkit::eventually([&] { return probe.max_in_flight() >= 2 || gil.stats().waits >= 1; },
                          1000ms);
    };
  }
  const auto results =
      run_together(gil, {countdown(2000), countdown(2000)}, host, "two threads counting down");
  EXPECT_EQ(results, (std::vector<long>{0, 0})) << "each countdown returns 0";
  return probe.max_in_flight();
}

TEST_F(EvalLoop, UnderTheGilTheBytecodeOfTwoThreadsNeverOverlaps) {
  for (const GilKind kind : {GilKind::Modern, GilKind::Ticks}) {
    const char* name = kind == GilKind::Modern ? "the 3.2+ GIL" : "the 3.1 GIL";
    EXPECT_EQ(most_running_bytecode_at_once(kind), 1)
        << "under " << name << ", two CPU-bound threads ran bytecode at the same moment: one "
        << "of them ran instructions without holding the GIL. Take it before the first "
           "instruction (the tracer counts as one) and keep it to Return, except around a "
           "blocking call";
  }
}

TEST_F(EvalLoop, CpuBoundThreadsTakeTurnsAtBackwardJumps) {
  Gil gil(GilKind::Modern, 1ms);
  std::atomic<bool> b_done{false};
  std::atomic<bool> a_looping{false};
  std::atomic<int> ignored_in_a_row{0};
  bool ignored = false;
  // Thread A loops until thread B has finished. B can finish only if A offers the GIL at its back
  // edges: A gives up once it has run three loop turns with a drop request pending.
  Host a{{[&](long) -> long {
           a_looping = true;
           if (b_done) return 0;
           ignored_in_a_row = gil.drop_requested() ? ignored_in_a_row + 1 : 0;
           if (ignored_in_a_row >= 3) {
             ignored = true;
             return 0;
           }
           return 1;
         }},
         {}};
  long a_result = -1;
  long b_result = -1;
  testkit::finishes_within(
      5s, "thread A looping until thread B is done",
      [&] {
        std::thread thread_a([&] { a_result = kata::execute(gil, 0, kCallUntilZero, a); });
        testkit::eventually([&] { return a_looping.load(); }, 2000ms);
        std::thread thread_b([&] {
          b_result = kata::execute(gil, 1, countdown(1000), Host{});
          b_done = true;
        });
        thread_b.join();
        thread_a.join();
      },
      kHangHint);
  EXPECT_EQ(a_result, 0);
  EXPECT_EQ(b_result, 0);
  EXPECT_FALSE(ignored) << "thread B waited for the GIL and asked for it (the drop request), but "
                           "thread A went round its loop three more times without letting go: "
                           "call gil.check(thread) at every backward jump, the loop's back edge";
}

TEST_F(EvalLoop, BlockingCallsOfTwoThreadsRunAtOnce) {
  Gil gil(GilKind::Modern, 1ms);
  testkit::TimedBarrier both_blocked(2, 2s);
  std::array<std::atomic<bool>, 2> held_during{};
  std::array<std::atomic<bool>, 2> met{};
  std::array<std::atomic<int>, 2> quick_calls_holding{};
  std::vector<Host> host(2);
  for (std::size_t i = 0; i < 2; ++i) {
    const int me = static_cast<int>(i);
    host[i].functions = {[&, i, me](long) -> long {
                           held_during[i] = gil.held() && gil.last_holder() == me;
                           if (!held_during[i]) met[i] = both_blocked.arrive_and_wait();
                           return 5;
                         },
                         [&, i, me](long acc) -> long {
                           if (gil.held() && gil.last_holder() == me) ++quick_calls_holding[i];
                           return acc;
                         }};
  }
  // A quick call, the blocking call, a quick call: only the middle one may run without the GIL.
  const Code read = {{Op::Call, 1}, {Op::CallBlocking, 0}, {Op::Call, 1}, {Op::Return}};
  const auto results = run_together(gil, {read, read}, host, "two threads in a blocking call");
  EXPECT_EQ(results, (std::vector<long>{5, 5})) << "a blocking call's result goes to acc";
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(quick_calls_holding[i], 2)
        << "thread " << i << " ran a quick Call before or after its blocking call without "
        << "holding the GIL: a Call is bytecode's business (it may touch objects); only "
           "CallBlocking lets the GIL go, and takes it back when the call returns";
    ASSERT_FALSE(held_during[i])
        << "thread " << i << " made its blocking call with the GIL held: while it waits, no "
        << "other thread can run, not even to start a read of its own. Release the GIL around "
           "CallBlocking (support::AllowThreads)";
    EXPECT_TRUE(met[i]) << "thread " << i << "'s blocking call waited 2 s for the other's to be "
                        << "in progress too, and it never was";
  }
}

TEST_F(EvalLoop, BytecodeRunsWhileAnotherThreadBlocks) {
  Gil gil(GilKind::Modern, 1ms);
  std::atomic<int> cpu_instructions{0};
  std::atomic<bool> io_in_call{false};
  std::atomic<bool> io_done{false};
  bool held_during = false;
  bool cpu_ran_meanwhile = false;
  // Thread 0 blocks until thread 1, started once thread 0 is in its call, has run 200
  // instructions; thread 1 loops until thread 0's blocking call has returned.
  Host io{{[&](long) -> long {
            held_during = gil.held() && gil.last_holder() == 0;
            io_in_call = true;
            if (!held_during) {
              cpu_ran_meanwhile =
                  testkit::eventually([&] { return cpu_instructions >= 200; }, 2000ms);
            }
            io_done = true;
            return 0;
          }},
          {}};
  Host cpu{{[&](long) -> long { return io_done ? 0 : 1; }},
           [&](std::size_t) { ++cpu_instructions; }};
  testkit::finishes_within(
      5s, "an I/O-bound and a CPU-bound thread",
      [&] {
        std::thread io_thread([&] {
          kata::execute(gil, 0, {{Op::CallBlocking, 0}, {Op::Return}}, io);
        });
        testkit::eventually([&] { return io_in_call.load(); }, 2000ms);
        std::thread cpu_thread([&] { kata::execute(gil, 1, kCallUntilZero, cpu); });
        cpu_thread.join();
        io_thread.join();
      },
      kHangHint);
  ASSERT_FALSE(held_during) << "the blocking call ran with the GIL held, so the CPU-bound thread "
                               "could not run meanwhile: release the GIL around CallBlocking";
  EXPECT_TRUE(cpu_ran_meanwhile)
      << "while thread 0 was in its blocking call, thread 1 ran fewer than 200 instructions in "
         "2 s: is the GIL free for other threads during the call?";
}

TEST_F(EvalLoop, WithTheGilOffTheBytecodeOfTwoThreadsOverlaps) {
  Gil gil(GilKind::Off);
  testkit::InflightProbe probe;
  testkit::TimedBarrier both_running(2, 2s);
  std::array<std::atomic<bool>, 2> met{};
  std::array<std::atomic<bool>, 2> started{};
  std::vector<Host> host(2);
  for (std::size_t i = 0; i < 2; ++i) {
    host[i].tracer = [&, i](std::size_t) {
      const auto in = probe.enter();
      if (!started[i].exchange(true)) met[i] = both_running.arrive_and_wait();
    };
  }
  run_together(gil, {countdown(500), countdown(500)}, host, "two threads with the GIL off");
  EXPECT_EQ(probe.max_in_flight(), 2)
      << "with GilKind::Off nothing should stop two threads from running bytecode at once, yet "
         "they never did (their first instructions waited 2 s for each other): is there a lock "
         "of your own in execute()? Only the GIL may serialise bytecode, and this one is off";
  EXPECT_TRUE(met[0] && met[1]);
}

TEST_F(EvalLoop, AnExceptionLeavesTheGilFree) {
  Gil gil(GilKind::Modern, 1ms);
  const Host host{{[](long) -> long { throw std::runtime_error("no such attribute"); },
                   [](long) -> long { throw std::runtime_error("connection reset"); }},
                  {}};
  for (const long function : {0L, 1L}) {
    const Op op = function == 0 ? Op::Call : Op::CallBlocking;
    EXPECT_THROW(kata::execute(gil, 0, {{Op::Set, 1}, {op, function}, {Op::Return}}, host),
                 std::runtime_error)
        << "the exception of a host function must reach execute()'s caller";
    EXPECT_FALSE(gil.held()) << "an exception from a " << (function == 0 ? "Call" : "CallBlocking")
                             << " left execute() with the GIL held, so no other thread could run"
                                " bytecode again: drop it in a destructor (RAII), which runs "
                                "however the scope ends";
    if (gil.held()) gil.drop(0);
  }
}

}  // namespace
