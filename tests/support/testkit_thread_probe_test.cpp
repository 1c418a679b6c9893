// Tests of testkit/thread_probe.hpp and testkit/cores.hpp, including that each probe says
// false when it should, and that why_not_asleep is empty for a thread waiting on a condition
// variable only.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "testkit/cores.hpp"
#include "testkit/eventually.hpp"
#include "testkit/thread_probe.hpp"

namespace {

using namespace std::chrono_literals;

// A thread that waits on a condition variable until it is let go.
class Parked {
 public:
  Parked()
      : thread_([this] {
          tid_.store(testkit::this_thread_tid());
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [&] { return go_; });
        }) {
    while (tid_.load() == 0) std::this_thread::yield();
  }
  ~Parked() {
    release();
    if (thread_.joinable()) thread_.join();
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      go_ = true;
    }
    wake_.notify_all();
  }
  pid_t tid() const { return tid_.load(); }
  std::thread& thread() { return thread_; }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool go_ = false;
  std::atomic<pid_t> tid_{0};
  std::thread thread_;  // last: starts after the members it uses
};

// A thread that runs `step` again and again until it is destroyed: it spins (an empty step) or
// naps (a short sleep).
class Looping {
 public:
  explicit Looping(std::function<void()> step)
      : thread_([this, step = std::move(step)] {
          tid_.store(testkit::this_thread_tid());
          while (!stop_.load()) step();
        }) {
    while (tid_.load() == 0) std::this_thread::yield();
  }
  ~Looping() {
    stop_.store(true);
    thread_.join();
  }
  pid_t tid() const { return tid_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;  // last: starts after the members it uses
};

void nap() { std::this_thread::sleep_for(20ms); }

TEST(ThreadProbe, KernelIdsTellThreadsApart) {
  EXPECT_EQ(testkit::this_thread_tid(), getpid()) << "GoogleTest runs tests on the main thread";
  pid_t other = 0;
  std::thread([&] { other = testkit::this_thread_tid(); }).join();
  EXPECT_NE(other, 0);
  EXPECT_NE(other, testkit::this_thread_tid());
}

TEST(ThreadProbe, AThreadIsAliveUntilItEnds) {
  pid_t tid = 0;
  {
    Parked parked;
    tid = parked.tid();
    EXPECT_TRUE(testkit::thread_alive(tid));
  }
  EXPECT_TRUE(testkit::eventually([&] { return !testkit::thread_alive(tid); }, 2s));
  EXPECT_FALSE(testkit::thread_alive(getppid())) << "a process outside this one is no thread of it";
}

TEST(ThreadProbe, SeesWhetherTheCallingThreadWasDetached) {
  bool joinable_seen_detached = true;
  std::thread([&] { joinable_seen_detached = testkit::this_thread_is_detached(); }).join();
  EXPECT_FALSE(joinable_seen_detached);

  std::atomic<bool> detached_done{false};
  std::atomic<bool> seen_detached{false};
  std::atomic<bool> go{false};
  std::atomic<pid_t> tid{0};
  std::thread detached([&] {
    tid.store(testkit::this_thread_tid());
    while (!go.load()) std::this_thread::yield();
    seen_detached.store(testkit::this_thread_is_detached());
    detached_done.store(true);
  });
  detached.detach();
  go.store(true);
  ASSERT_TRUE(testkit::eventually([&] { return detached_done.load(); }, 2s));
  EXPECT_TRUE(seen_detached.load());
  // Gone before the next test counts threads.
  EXPECT_TRUE(testkit::eventually([&] { return !testkit::thread_alive(tid.load()); }, 2s));
}

TEST(ThreadProbe, AWaitingThreadIsBlockedInAFutexAndARunningOneIsNot) {
  Parked parked;
  ASSERT_TRUE(testkit::eventually([&] { return testkit::blocked(parked.tid()); }, 2s));
  const auto call = testkit::blocked_syscall(parked.tid());
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->number, SYS_futex);
  EXPECT_FALSE(testkit::sleeps(parked.tid())) << "a condition-variable wait is no sleep";

  Looping spinning([] {});
  for (int look = 0; look < 20; ++look) {
    EXPECT_FALSE(testkit::blocked(spinning.tid()));
    EXPECT_FALSE(testkit::blocked_syscall(spinning.tid()).has_value());
  }
}

TEST(ThreadProbe, SeesASleepAsASleep) {
  Looping napping(nap);
  EXPECT_TRUE(testkit::eventually([&] { return testkit::sleeps(napping.tid()); }, 2s));
}

TEST(ThreadProbe, SeesWhichThreadAJoinWaitsFor) {
  ASSERT_TRUE(testkit::syscall_probe_works());
  Parked joined;
  Parked bystander;
  const pthread_t joined_handle = joined.thread().native_handle();
  std::atomic<pid_t> joiner{0};
  std::thread joining([&] {
    joiner.store(testkit::this_thread_tid());
    joined.thread().join();
  });
  while (joiner.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(testkit::eventually(
      [&] { return testkit::waits_to_join(joiner.load(), joined_handle); }, 2s));
  EXPECT_FALSE(testkit::waits_to_join(joiner.load(), bystander.thread().native_handle()))
      << "the joiner waits for one thread only";
  EXPECT_FALSE(testkit::waits_to_join(bystander.tid(), joined_handle))
      << "a thread waiting on a condition variable joins nobody";
  joined.release();
  joining.join();
}

TEST(ThreadProbe, AThreadWaitingForAMutexJoinsNobody) {
  std::mutex held;
  std::unique_lock lock(held);
  std::atomic<pid_t> waiter{0};
  std::thread waiting([&] {
    waiter.store(testkit::this_thread_tid());
    std::lock_guard wait_for_it(held);
  });
  while (waiter.load() == 0) std::this_thread::yield();
  ASSERT_TRUE(testkit::eventually([&] { return testkit::blocked(waiter.load()); }, 2s));
  EXPECT_FALSE(testkit::waits_to_join(waiter.load(), waiting.native_handle()));
  EXPECT_FALSE(testkit::sleeps(waiter.load()));
  lock.unlock();
  waiting.join();
}

// ---- activity_of and why_not_asleep -------------------------------------------------------------

const testkit::NotAsleepQuestions kAsk{"does it nap and look again?", "does it spin?"};

TEST(WhyNotAsleep, IsEmptyForAThreadWaitingOnAConditionVariable) {
  Parked parked;
  EXPECT_TRUE(
      testkit::eventually([&] { return testkit::why_not_asleep(parked.tid(), kAsk).empty(); }, 2s));
  EXPECT_EQ(testkit::activity_of(parked.tid()), testkit::Activity::kAsleepInFutex);
}

TEST(WhyNotAsleep, SaysThatARunningThreadRanAndAsksTheCallersQuestion) {
  Looping spinning([] {});
  EXPECT_EQ(testkit::activity_of(spinning.tid()), testkit::Activity::kRunning);
  EXPECT_EQ(testkit::why_not_asleep(spinning.tid(), kAsk),
            "it was running on a core (or ready to) every time the test looked: does it spin?");
}

TEST(WhyNotAsleep, SaysThatASleepingThreadSleptAndAsksTheCallersQuestion) {
  Looping napping(nap);
  EXPECT_TRUE(testkit::eventually(
      [&] { return testkit::activity_of(napping.tid()) == testkit::Activity::kSleeping; }, 2s));
  // The thread wakes every 20 ms: look until a look finds it in its sleep.
  std::string why;
  testkit::eventually(
      [&] {
        why = testkit::why_not_asleep(napping.tid(), kAsk);
        return why.rfind("it was in a sleep", 0) == 0;
      },
      2s);
  EXPECT_EQ(why,
            "it was in a sleep (std::this_thread::sleep_for), which nothing can cut short: does "
            "it nap and look again?");
}

TEST(WhyNotAsleep, SaysWhichOtherSystemCallAThreadIsBlockedIn) {
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  std::atomic<pid_t> reader{0};
  std::thread reading([&] {
    reader.store(testkit::this_thread_tid());
    char byte = 0;
    (void)!read(ends[0], &byte, 1);
  });
  while (reader.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(testkit::eventually(
      [&] { return testkit::activity_of(reader.load()) == testkit::Activity::kInOtherCall; }, 2s));
  EXPECT_EQ(testkit::why_not_asleep(reader.load(), kAsk),
            "it was blocked in system call " + std::to_string(SYS_read) +
                ", not in a condition variable's wait");
  (void)!write(ends[1], "x", 1);
  reading.join();
  close(ends[0]);
  close(ends[1]);
}

TEST(WhyNotAsleep, SaysWhenAThreadHadEndedOrNeverStarted) {
  pid_t ended = 0;
  std::thread([&] { ended = testkit::this_thread_tid(); }).join();
  ASSERT_TRUE(testkit::eventually([&] { return !testkit::thread_alive(ended); }, 2s));
  EXPECT_EQ(testkit::activity_of(ended), testkit::Activity::kEnded);
  EXPECT_EQ(testkit::why_not_asleep(ended, kAsk), "it had ended");
  EXPECT_EQ(testkit::activity_of(0), testkit::Activity::kNotStarted);
  EXPECT_EQ(testkit::why_not_asleep(0, kAsk), "it had not started");
}

TEST(Cores, MoreCallsThanCores) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_GT(testkit::more_calls_than_cores(), cores);
  EXPECT_GE(testkit::more_calls_than_cores(), 6);
  EXPECT_GE(testkit::more_calls_than_cores(1000), 1000);
}

}  // namespace
