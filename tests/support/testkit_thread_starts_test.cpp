// Tests of testkit/thread_starts.hpp: thread starts fail for the thread that asked, and
// only for it and only while asked; and the fact kata 01b relies on: with no room for a thread,
// std::async's default policy runs the call on the thread that asks for the result, while
// std::launch::async reports the failure.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>

#include "testkit/thread_probe.hpp"
#include "testkit/thread_starts.hpp"

namespace {

using namespace std::chrono_literals;

bool starts_a_thread() {
  try {
    std::thread([] {}).join();
    return true;
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::resource_unavailable_try_again);
    return false;
  }
}

TEST(FailThreadStarts, FailsStartsByTheThreadThatAskedWhileItLives) {
  ASSERT_TRUE(starts_a_thread());
  {
    testkit::FailThreadStarts no_threads;
    EXPECT_FALSE(starts_a_thread());
    EXPECT_FALSE(starts_a_thread());
    EXPECT_EQ(no_threads.refused(), 2);
  }
  EXPECT_TRUE(starts_a_thread()) << "once it is gone, threads start again";
}

TEST(FailThreadStarts, OtherThreadsStartThreadsAsUsual) {
  std::promise<void> armed;
  std::future<bool> other_started =
      std::async(std::launch::async, [ready = armed.get_future()]() mutable {
        ready.wait();
        return starts_a_thread();
      });
  testkit::FailThreadStarts no_threads;
  armed.set_value();
  EXPECT_TRUE(other_started.get()) << "only the thread that asked fails its starts";
  EXPECT_FALSE(starts_a_thread());
}

TEST(FailThreadStarts, TellsTheTwoPoliciesOfStdAsyncApart) {
  testkit::FailThreadStarts no_threads;
  EXPECT_THROW((void)std::async(std::launch::async, [] { return 1; }), std::system_error);
  auto deferred = std::async([] { return testkit::this_thread_tid(); });
  EXPECT_EQ(deferred.get(), testkit::this_thread_tid())
      << "with no room for a thread, the default policy ran the call here, in get()";
}

TEST(NewThreadsRunFirst, AStartReturnsOnceTheNewThreadIsBlocked) {
  std::mutex mutex;
  std::condition_variable wake;
  bool go = false;
  std::atomic<int> steps{0};
  {
    testkit::NewThreadsRunFirst run_first(2s);
    std::thread waiter([&] {
      steps.fetch_add(1);  // what the new thread does before it blocks
      std::unique_lock lock(mutex);
      wake.wait(lock, [&] { return go; });
      steps.fetch_add(1);
    });
    EXPECT_EQ(steps.load(), 1) << "the new thread ran up to its wait before the start returned";
    EXPECT_EQ(run_first.waited(), 1);
    {
      std::lock_guard lock(mutex);
      go = true;
    }
    wake.notify_all();
    waiter.join();
  }
  EXPECT_EQ(steps.load(), 2);
}

TEST(NewThreadsRunFirst, AStartReturnsOnceTheNewThreadHasEndedOrAfterTheBound) {
  testkit::NewThreadsRunFirst run_first(100ms);
  std::atomic<bool> ran{false};
  std::thread quick([&] { ran.store(true); });
  EXPECT_TRUE(ran.load()) << "a thread that ends at once has ended when the start returns";
  quick.join();

  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread spinning([&] {
    while (!stop.load()) {
    }
  });
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms) << "a spinning thread never blocks";
  stop.store(true);
  spinning.join();
}

TEST(NewThreadsRunFirst, OnlyTheThreadThatAskedWaits) {
  std::promise<testkit::NewThreadsRunFirst*> asked;
  std::promise<void> done;
  std::thread asking([&, finished = done.get_future()] {
    testkit::NewThreadsRunFirst run_first(2s);
    asked.set_value(&run_first);
    finished.wait();
  });
  testkit::NewThreadsRunFirst* const run_first = asked.get_future().get();
  // This thread did not ask: its start returns at once, although the new thread never blocks.
  std::atomic<bool> stop{false};
  std::thread spinning([&] {
    while (!stop.load()) {
    }
  });
  EXPECT_EQ(run_first->waited(), 0);
  stop.store(true);
  spinning.join();
  done.set_value();
  asking.join();
}

}  // namespace
