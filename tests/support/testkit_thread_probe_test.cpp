// Tests of testkit/thread_probe.hpp and testkit/cores.hpp, including that each probe says
// false when it should.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
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

  std::atomic<bool> stop{false};
  std::atomic<pid_t> spinner{0};
  std::thread spinning([&] {
    spinner.store(testkit::this_thread_tid());
    while (!stop.load()) {
    }
  });
  while (spinner.load() == 0) std::this_thread::yield();
  for (int look = 0; look < 20; ++look) {
    EXPECT_FALSE(testkit::blocked(spinner.load()));
    EXPECT_FALSE(testkit::blocked_syscall(spinner.load()).has_value());
  }
  stop.store(true);
  spinning.join();
}

TEST(ThreadProbe, SeesASleepAsASleep) {
  std::atomic<pid_t> sleeper{0};
  std::atomic<bool> seen{false};
  std::thread sleeping([&] {
    sleeper.store(testkit::this_thread_tid());
    while (!seen.load()) std::this_thread::sleep_for(20ms);
  });
  while (sleeper.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(testkit::eventually([&] { return testkit::sleeps(sleeper.load()); }, 2s));
  seen.store(true);
  sleeping.join();
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

TEST(Cores, MoreCallsThanCores) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  EXPECT_GT(testkit::more_calls_than_cores(), cores);
  EXPECT_GE(testkit::more_calls_than_cores(), 6);
  EXPECT_GE(testkit::more_calls_than_cores(1000), 1000);
}

}  // namespace
