// Tests for kata 10b: every Interpreter has its own GIL, so threads of two interpreters run
// bytecode at the same moment while threads of one still take turns; and a Queue hands over a
// copy of each value, so what the sender does to its object after put() never reaches get().
//
// Proven by structure. In-flight probes inside every unit of bytecode count how many threads run
// bytecode at once, in all and per interpreter. The first unit of each interpreter waits until
// the other interpreter runs bytecode too, or until a thread is counted waiting for this
// interpreter's GIL (then they share one); with two threads in each interpreter, the first unit
// of each waits until the other thread of its interpreter runs too, or waits for their GIL. The
// verdict comes from an event, never from a sleep.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gil.hpp"
#include "interpreter.hpp"
#include "subinterpreters.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/thread_probe.hpp"

namespace {

using namespace std::chrono_literals;
using support::Cpu;
using support::Program;

class Subinterpreters : public testkit::LeakCheckedTest {};

TEST_F(Subinterpreters, AValueCrossesAQueue) {
  kata::Queue queue;
  queue.put(42L);
  queue.put(std::string("spam"));
  EXPECT_EQ(queue.get<long>(), 42L) << "get() must return the oldest value put()";
  EXPECT_EQ(queue.get<std::string>(), "spam") << "get() must return the values in order";
}

TEST_F(Subinterpreters, TheQueueHandsOverACopy) {
  kata::Queue queue;
  std::vector<long> numbers{1, 2, 3};
  std::string name = "eggs";
  queue.put(numbers);
  queue.put(name);
  numbers.assign({9, 9, 9, 9});  // the sender goes on using its objects
  name = "ham";
  EXPECT_EQ(queue.get<std::vector<long>>(), (std::vector<long>{1, 2, 3}))
      << "the receiver saw what the sender did to its vector after put(): the queue handed over "
         "the sender's object, not a copy. Interpreters share no objects; put() must copy the "
         "value then and there (wire::encode it)";
  EXPECT_EQ(queue.get<std::string>(), "eggs") << "the receiver saw the sender's later change";
}

TEST_F(Subinterpreters, GetWaitsForAPutFromAnotherThread) {
  kata::Queue queue;
  std::atomic<pid_t> receiver_tid{0};
  long received = 0;
  testkit::finishes_within(
      5s, "get() waiting for another thread's put()",
      [&] {
        std::thread receiver([&] {
          receiver_tid = testkit::this_thread_tid();
          received = queue.get<long>();
        });
        // Put only once the receiver sleeps in get(): then put() must wake it.
        testkit::eventually(
            [&] { return testkit::activity_of(receiver_tid) == testkit::Activity::kAsleepInFutex; },
            2000ms);
        queue.put(7L);
        receiver.join();
      },
      "get() sleeps on a condition variable: does put() notify it?");
  EXPECT_EQ(received, 7L) << "get() must return the value another thread put()";
}

TEST_F(Subinterpreters, EachInterpreterHasAGilOfItsOwn) {
  kata::Interpreter first;
  kata::Interpreter second;
  ASSERT_NE(&first.gil(), &second.gil())
      << "two interpreters return the same GIL: since Python 3.12 (PEP 684) each interpreter "
         "has its own, so that their threads never wait for each other";
  ASSERT_EQ(&first.gil(), &first.gil())
      << "one interpreter returned a different GIL each time gil() was called: its threads would "
         "not be waiting for the same lock. Keep the GIL in the interpreter, made once";
  first.gil().take(0);
  EXPECT_FALSE(second.gil().held()) << "taking one interpreter's GIL took the other's too";
  first.gil().drop(0);
}

// Runs `threads` (1 or 2) CPU-bound threads in each of two interpreters, each interpreter from a
// thread of its own; returns the most units running at once: in all, and in each interpreter.
struct Overlap {
  int across = 0;
  std::array<int, 2> within{};
};

Overlap run_two_interpreters(int threads) {
  std::array<kata::Interpreter, 2> interpreters;
  const std::array<std::uint64_t, 2> waits_before{interpreters[0].gil().stats().waits,
                                                  interpreters[1].gil().stats().waits};
  testkit::InflightProbe all;
  std::array<testkit::InflightProbe, 2> each;
  std::array<std::array<std::atomic<bool>, 2>, 2> started{};  // [interpreter][thread]
  std::array<std::thread, 2> runners;
  testkit::finishes_within(
      5s, "two interpreters running CPU-bound threads",
      [&] {
        for (std::size_t i = 0; i < 2; ++i) {
          runners[i] = std::thread([&, i] {
            kata::Interpreter& self = interpreters[i];
            const std::vector<Program> programs(threads, Program{Cpu{300}});
            self.run(programs, [&, i](int thread) {
              const auto in_all = all.enter();
              const auto in_this = each[i].enter();
              if (started[i][thread].exchange(true)) return;
              // Each thread's first unit waits until another thread (of the other interpreter,
              // or of its own when there are two) runs bytecode too, or until a thread waits for
              // this interpreter's GIL, which then keeps them apart.
              const testkit::InflightProbe& probe = threads == 1 ? all : each[i];
              testkit::eventually(
                  [&] {
                    return probe.max_in_flight() >= 2 || self.gil().stats().waits > waits_before[i];
                  },
                  2000ms);
            });
          });
        }
        for (auto& runner : runners) runner.join();
      },
      "a thread waits for a GIL that is never dropped");
  return {all.max_in_flight(), {each[0].max_in_flight(), each[1].max_in_flight()}};
}

TEST_F(Subinterpreters, TwoInterpretersRunBytecodeAtOnce) {
  const Overlap overlap = run_two_interpreters(1);
  EXPECT_EQ(overlap.across, 2)
      << "the threads of two interpreters never ran bytecode at the same moment: one waited for "
         "the GIL the other held. Give each interpreter a GIL of its own";
}

TEST_F(Subinterpreters, ThreadsOfOneInterpreterStillTakeTurns) {
  const Overlap overlap = run_two_interpreters(2);
  EXPECT_EQ(overlap.within[0], 1) << "two threads of one interpreter ran bytecode at once: its "
                                     "GIL must still let one thread at a time run";
  EXPECT_EQ(overlap.within[1], 1) << "two threads of one interpreter ran bytecode at once";
}

}  // namespace
