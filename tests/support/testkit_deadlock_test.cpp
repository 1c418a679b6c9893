// Tests for testkit/deadlock.hpp through finishes_within: a deadlock is named within a fraction
// of the deadline, with who waits for what; a call that only takes its time is never called one.
//
// Each deadlock runs in a death test (a process of its own, which it ends). Its deadline is long
// (20 s): if the watch missed the deadlock, the message would say "did not finish within" and the
// test would fail on the text, after those 20 s.
//
// Not in testkit_selftest.tsan (CMakeLists.txt): ThreadSanitizer's runtime keeps a thread of its
// own that wakes every 100 ms, so under it a process is never wholly asleep and no deadlock is
// named early (the deadline still ends it). The grader runs a test under ThreadSanitizer only
// after it passed without it, so a deadlock is always named by the plain run.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include "testkit/deadline.hpp"

namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 20s;

class DeadlockDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(DeadlockDeathTest, TwoThreadsTakingTwoMutexesInOppositeOrder) {
  EXPECT_EXIT(testkit::finishes_within(kLong, "taking a then b, and b then a",
                                       [] {
                                         std::mutex a, b;
                                         std::unique_lock hold_a(a);
                                         std::thread other([&] {
                                           std::lock_guard hold_b(b);
                                           std::lock_guard then_a(a);
                                         });
                                         std::this_thread::sleep_for(50ms);
                                         std::lock_guard then_b(b);
                                         other.join();
                                       }),
              testing::ExitedWithCode(124),
              "TIMEOUT: taking a then b, and b then a can never finish \\(a deadlock, seen after "
              "0\\.[0-9] s of its 20\\.0 s deadline\\): the call under test: waits to lock a mutex "
              "that is never unlocked; thread [0-9]+: waits to lock a mutex that is never "
              "unlocked\\. Each of these waits for another of them");
}

TEST_F(DeadlockDeathTest, AJoinOfAThreadThatWaitsForANotifyThatNeverComes) {
  EXPECT_EXIT(
      testkit::finishes_within(kLong, "joining",
                               [] {
                                 std::mutex mutex;
                                 std::condition_variable cv;
                                 std::thread waiter([&] {
                                   std::unique_lock lock(mutex);
                                   cv.wait(lock);
                                 });
                                 waiter.join();
                               }),
      testing::ExitedWithCode(124),
      "joining can never finish.*: the call under test: join\\(\\) on thread [0-9]+, "
      "which never ends; thread [0-9]+: waits on a condition variable that nobody notifies");
}

TEST_F(DeadlockDeathTest, AGetOnAFutureWhosePromiseIsNeverKept) {
  EXPECT_EXIT(testkit::finishes_within(kLong, "getting",
                                       [] {
                                         std::promise<int> promise;
                                         promise.get_future().get();
                                       }),
              testing::ExitedWithCode(124),
              "getting can never finish.*: the call under test: waits in get\\(\\) for a "
              "future's result that nobody sets\\. Nothing else is left");
}

TEST_F(DeadlockDeathTest, AReadFromAPipeWhoseWriteEndTheReaderHolds) {
  EXPECT_EXIT(testkit::finishes_within(kLong, "reading to the end",
                                       [] {
                                         int ends[2];
                                         ASSERT_EQ(pipe(ends), 0);
                                         char byte;
                                         (void)!read(ends[0], &byte, 1);
                                       }),
              testing::ExitedWithCode(124),
              "reading to the end can never finish.*: the call under test: read\\(\\) on a pipe, "
              "whose write end is still open in this process itself \\(fd [0-9]+\\)\\. Nothing "
              "else is left");
}

TEST_F(DeadlockDeathTest, AWaitpidForAChildThatReadsWhatTheParentNeverSends) {
  EXPECT_EXIT(testkit::finishes_within(kLong, "waiting for the child",
                                       [] {
                                         int ends[2];
                                         ASSERT_EQ(pipe(ends), 0);
                                         const pid_t child = fork();
                                         if (child == 0) {
                                           // Ends with the test, not left reading forever.
                                           prctl(PR_SET_PDEATHSIG, SIGKILL);
                                           char byte;
                                           (void)!read(ends[0], &byte, 1);
                                           _exit(0);
                                         }
                                         waitpid(child, nullptr, 0);
                                       }),
              testing::ExitedWithCode(124),
              "the call under test: waitpid\\(\\) for child [0-9]+, which never ends; child "
              "[0-9]+: read\\(\\) on a pipe, whose write end is still open in this process "
              "itself \\(fd [0-9]+\\), child [0-9]+ \\(fd [0-9]+\\)");
}

TEST_F(DeadlockDeathTest, APollWithNoTimeoutOnAPipeNobodyWrites) {
  EXPECT_EXIT(testkit::finishes_within(kLong, "polling",
                                       [] {
                                         int ends[2];
                                         ASSERT_EQ(pipe(ends), 0);
                                         pollfd wanted{ends[0], POLLIN, 0};
                                         poll(&wanted, 1, -1);
                                       }),
              testing::ExitedWithCode(124),
              "polling can never finish.*poll\\(\\) on 1 pipe\\(s\\), with no timeout");
}

// ---- what is not a deadlock: these calls end by themselves, later than the first looks -----

TEST(NotADeadlock, AWaitThatAThreadEndsAfterASleep) {
  const bool woken = testkit::finishes_within(kLong, "waiting for a notify", [] {
    std::mutex mutex;
    std::condition_variable cv;
    bool ready = false;
    std::thread notifier([&] {
      std::this_thread::sleep_for(400ms);  // asleep, but with a timeout: it wakes by itself
      std::lock_guard lock(mutex);
      ready = true;
      cv.notify_one();
    });
    {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return ready; });
    }
    notifier.join();
    return ready;
  });
  EXPECT_TRUE(woken);
}

TEST(NotADeadlock, AReadFromAPipeThatAChildWritesLater) {
  const char got = testkit::finishes_within(kLong, "reading from a slow child", [] {
    int ends[2];
    if (pipe(ends) != 0) return '?';
    const pid_t child = fork();
    if (child == 0) {
      close(ends[0]);
      usleep(400'000);
      (void)!write(ends[1], "x", 1);
      _exit(0);
    }
    close(ends[1]);
    char byte = '?';
    pollfd wanted{ends[0], POLLIN, 0};
    poll(&wanted, 1, -1);
    (void)!read(ends[0], &byte, 1);
    close(ends[0]);
    waitpid(child, nullptr, 0);
    return byte;
  });
  EXPECT_EQ(got, 'x');
}

// The writer is a grandchild whose parent has ended: it is no longer below the test process, but
// it holds the pipe, so the read is not a deadlock.
TEST(NotADeadlock, AReadFromAPipeThatAProcessOutsideTheTestWritesLater) {
  const char got = testkit::finishes_within(kLong, "reading from an orphan", [] {
    int ends[2];
    if (pipe(ends) != 0) return '?';
    const pid_t child = fork();
    if (child == 0) {
      if (fork() == 0) {
        usleep(400'000);
        (void)!write(ends[1], "x", 1);
      }
      _exit(0);
    }
    waitpid(child, nullptr, 0);  // the orphan, now a child of init, writes later
    close(ends[1]);
    char byte = '?';
    (void)!read(ends[0], &byte, 1);
    close(ends[0]);
    return byte;
  });
  EXPECT_EQ(got, 'x');
}

// alarm()'s signal ends the blocked read with EINTR: a timer is a way out. (The signal goes to
// a thread that does not block it: only the reading thread, here.)
TEST(NotADeadlock, AReadThatAnAlarmInterrupts) {
  sigset_t alarm_only, before;
  sigemptyset(&alarm_only);
  sigaddset(&alarm_only, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm_only, &before);
  const bool interrupted = testkit::finishes_within(kLong, "reading until the alarm", [&] {
    pthread_sigmask(SIG_UNBLOCK, &alarm_only, nullptr);
    struct sigaction on_alarm {};
    on_alarm.sa_handler = [](int) {};  // no SA_RESTART: the read returns
    sigaction(SIGALRM, &on_alarm, nullptr);
    int ends[2];
    if (pipe(ends) != 0) return false;
    alarm(1);
    char byte;
    const bool ended = read(ends[0], &byte, 1) < 0 && errno == EINTR;
    close(ends[0]);
    close(ends[1]);
    signal(SIGALRM, SIG_DFL);
    return ended;
  });
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  EXPECT_TRUE(interrupted);
}

TEST(NotADeadlock, AJoinOfAThreadThatWaitsWithATimeout) {
  testkit::finishes_within(kLong, "joining a patient thread", [] {
    std::mutex mutex;
    std::condition_variable cv;
    std::thread patient([&] {
      std::unique_lock lock(mutex);
      cv.wait_for(lock, 400ms);
    });
    patient.join();
  });
}

}  // namespace
