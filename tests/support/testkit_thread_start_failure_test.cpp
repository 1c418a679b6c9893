// Tests of testkit/thread_start_failure.hpp: thread starts fail for the thread that asked, and
// only for it and only while asked; and the fact kata 01b relies on: with no room for a thread,
// std::async's default policy runs the call on the thread that asks for the result, while
// std::launch::async reports the failure.
#include <gtest/gtest.h>

#include <future>
#include <system_error>
#include <thread>

#include "testkit/thread_probe.hpp"
#include "testkit/thread_start_failure.hpp"

namespace {

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

}  // namespace
