// Tests of testkit/cores.hpp's PinnedToCore: two threads pinned as the first and the second core
// each run on one core, not the same one; the destructor gives a thread back the cores it had,
// also when it runs on another thread; and a core beyond the allowed ones pins nothing.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <latch>
#include <optional>
#include <thread>

#include "testkit/cores.hpp"

namespace {

cpu_set_t cores_of(pthread_t thread) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  pthread_getaffinity_np(thread, sizeof cpus, &cpus);
  return cpus;
}

int core_count(pthread_t thread) {
  const cpu_set_t cpus = cores_of(thread);
  return CPU_COUNT(&cpus);
}

// The one core a set holds, or -1 if it holds more or none.
int only_core(const cpu_set_t& cpus) {
  if (CPU_COUNT(&cpus) != 1) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &cpus)) return cpu;
  return -1;
}

TEST(PinnedToCore, PinsTwoThreadsToTwoDifferentCoresAndGivesTheirCoresBack) {
  if (!testkit::PinnedToCore::two_cores_allowed()) GTEST_SKIP() << "one core allowed here";
  const int allowed = core_count(pthread_self());
  int core[2] = {-1, -1};
  int after[2] = {0, 0};
  auto run = [&](int nth) {
    {
      const testkit::PinnedToCore pinned(nth);
      EXPECT_TRUE(pinned.pinned()) << "thread " << nth;
      core[nth] = only_core(cores_of(pthread_self()));
    }
    after[nth] = core_count(pthread_self());
  };
  std::thread first(run, 0), second(run, 1);
  first.join();
  second.join();
  EXPECT_GE(core[0], 0) << "thread 0 could still run on more than one core";
  EXPECT_GE(core[1], 0) << "thread 1 could still run on more than one core";
  EXPECT_NE(core[0], core[1]) << "both threads were pinned to core " << core[0];
  EXPECT_EQ(after[0], allowed) << "thread 0 did not get its cores back";
  EXPECT_EQ(after[1], allowed) << "thread 1 did not get its cores back";
}

TEST(PinnedToCore, GivesTheCoresBackFromAnotherThread) {
  if (!testkit::PinnedToCore::two_cores_allowed()) GTEST_SKIP() << "one core allowed here";
  const int allowed = core_count(pthread_self());
  std::optional<testkit::PinnedToCore> pinned;
  std::latch made(1);
  std::latch released(1);
  int while_pinned = 0;
  int after = 0;
  std::thread worker([&] {
    pinned.emplace(1);
    while_pinned = core_count(pthread_self());
    made.count_down();
    released.wait();
    after = core_count(pthread_self());
  });
  made.wait();
  pinned.reset();  // on this thread, not the pinned one
  released.count_down();
  worker.join();
  EXPECT_EQ(while_pinned, 1) << "the worker was not pinned to one core";
  EXPECT_EQ(after, allowed) << "the worker did not get its " << allowed << " cores back";
}

TEST(PinnedToCore, ACoreBeyondTheAllowedOnesPinsNothing) {
  const cpu_set_t before = cores_of(pthread_self());
  const testkit::PinnedToCore pinned(CPU_SETSIZE);
  EXPECT_FALSE(pinned.pinned());
  const cpu_set_t now = cores_of(pthread_self());
  EXPECT_TRUE(CPU_EQUAL(&before, &now)) << "the thread's cores changed";
}

}  // namespace
