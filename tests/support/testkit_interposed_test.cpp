// Self-tests of testkit/guard_kill.cpp (see testkit/interposed.hpp): what kill() refuses and
// what it lets through, fork() failing on request, core dumps reported on request, and
// LeakCheckedTest failing a test during which a call was refused.
//
// The self-test program is built from the tests/support/*_test.cpp files only, so this file
// compiles guard_kill.cpp into it itself, as kata tests link it. Not under ThreadSanitizer: kata
// tests built with it do not link guard_kill.cpp either (there LeakCheckedTest sees no refusals).
#if !defined(__SANITIZE_THREAD__)

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include "testkit/eventually.hpp"
#include "testkit/guard_kill.cpp"  // NOLINT: see above
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;

[[noreturn]] void hang_forever() {
  for (;;) pause();
}

// A child that has ended and been reaped; its pid is free for the kernel to give away.
pid_t reaped_child() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  testkit::wait_for_child(pid);
  return pid;
}

TEST(GuardKill, RefusesASignalToAChildAlreadyReaped) {
  const pid_t pid = reaped_child();
  const int before = testkit::refused_call_count();
  errno = 0;
  EXPECT_EQ(kill(pid, SIGTERM), -1);
  EXPECT_EQ(errno, ESRCH) << "a refused signal to a reaped child reads as 'no such process'";
  ASSERT_EQ(testkit::refused_call_count(), before + 1);
  const std::string said = testkit::refused_call(before);
  EXPECT_NE(said.find("kill(" + std::to_string(pid) + ", " + std::to_string(SIGTERM) + ")"),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("already been reaped"), std::string::npos) << said;
}

TEST(GuardKill, LetsASignalToARunningOrZombieChildThrough) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) hang_forever();
  const int before = testkit::refused_call_count();
  EXPECT_EQ(kill(pid, SIGTERM), 0) << "a running child may be signalled";
  testkit::ProcessWatch watch(pid);
  ASSERT_TRUE(testkit::eventually([&] { return watch.ended(); }, 5000ms));
  EXPECT_EQ(kill(pid, SIGKILL), 0) << "a zombie child may be signalled: its pid is still its own";
  EXPECT_EQ(testkit::refused_call_count(), before);
  EXPECT_EQ(testkit::wait_for_child(pid).signal, SIGTERM);
}

TEST(GuardKill, LetsSignalsToOtherProcessesThrough) {
  const int before = testkit::refused_call_count();
  EXPECT_EQ(kill(getpid(), 0), 0) << "a pid this program never forked is not the guard's business";
  EXPECT_EQ(kill(getppid(), 0), 0);
  EXPECT_EQ(kill(reaped_child(), 0), -1) << "signal 0 sends nothing; the kernel answers for it";
  EXPECT_EQ(testkit::refused_call_count(), before);
}

TEST(GuardKill, LetsAChildSignalASiblingItDidNotFork) {
  // The sibling was forked by the test, before the child: the child's copy of the guard's
  // records names it, but as the test's child, not the child's.
  const pid_t sibling = fork();
  ASSERT_GE(sibling, 0);
  if (sibling == 0) hang_forever();
  const auto statuses = testkit::run_in_children({[sibling] { return kill(sibling, SIGKILL); }});
  EXPECT_EQ(statuses[0].exit_code, 0) << "the child's kill() of its sibling was refused";
  EXPECT_EQ(testkit::wait_for_child(sibling).signal, SIGKILL);
}

TEST(GuardKill, RefusesMinusOneAndZero) {
  const int before = testkit::refused_call_count();
  // Signal 0 and SIGWINCH (ignored by default) keep the damage small should the guard be broken.
  errno = 0;
  EXPECT_EQ(kill(-1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(kill(0, SIGWINCH), -1);
  EXPECT_EQ(testkit::refused_call_count(), before + 2);
  EXPECT_NE(testkit::refused_call(before).find("every process"), std::string::npos);
  EXPECT_NE(testkit::refused_call(before + 1).find("process group"), std::string::npos);
  EXPECT_EQ(kill(0, 0), 0) << "kill(0, 0) sends nothing and is allowed";
  EXPECT_EQ(testkit::refused_call(before + 5), "") << "no such refusal yet";
}

TEST(ForkFailsAfter, FailsForkWithEagainAfterTheGivenNumberOfSuccesses) {
  {
    testkit::ForkFailsAfter failing(1);
    const pid_t first = fork();
    if (first == 0) _exit(0);
    ASSERT_GT(first, 0) << "the first fork must still succeed";
    testkit::wait_for_child(first);
    for (int i = 0; i < 2; ++i) {
      errno = 0;
      EXPECT_EQ(fork(), -1) << "fork " << i + 2 << " must fail";
      EXPECT_EQ(errno, EAGAIN);
    }
  }
  const pid_t after = fork();
  if (after == 0) _exit(0);
  ASSERT_GT(after, 0) << "fork must work again once the ForkFailsAfter is gone";
  testkit::wait_for_child(after);
}

TEST(FailedForkNotReported, IsEmptyWhenTheCallThrowsTheForksError) {
  const std::string said = testkit::failed_fork_not_reported(1, "starter()", [] {
    const pid_t first = fork();
    if (first == 0) _exit(0);
    testkit::wait_for_child(first);
    if (fork() < 0) throw std::system_error(errno, std::generic_category(), "fork");
  });
  EXPECT_EQ(said, "");
}

TEST(FailedForkNotReported, SaysWhatHappenedInstead) {
  const std::string returned = testkit::failed_fork_not_reported(0, "quiet()", [] {
    if (fork() == 0) _exit(0);  // fails, and nobody says so
  });
  EXPECT_NE(returned.find("fork() number 1 failed with EAGAIN"), std::string::npos) << returned;
  EXPECT_NE(returned.find("quiet() returned normally"), std::string::npos) << returned;
  const std::string other = testkit::failed_fork_not_reported(
      0, "vague()", [] { throw std::runtime_error("something failed"); });
  EXPECT_NE(other.find("threw \"something failed\", not a std::system_error"), std::string::npos)
      << other;
  const std::string wrong_errno = testkit::failed_fork_not_reported(
      0, "late()", [] { throw std::system_error(ECHILD, std::generic_category(), "waitpid"); });
  EXPECT_NE(wrong_errno.find("late() threw std::system_error"), std::string::npos) << wrong_errno;
}

// A child that aborts, without leaving a core file behind.
pid_t aborting_child() {
  const pid_t pid = fork();
  if (pid == 0) {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    std::abort();
  }
  return pid;
}

TEST(CoreDumpsReported, SetsTheCoreDumpBitOnlyWhileItExists) {
  int status = 0;
  ASSERT_EQ(waitpid(aborting_child(), &status, 0) > 0, true);
  EXPECT_FALSE(WCOREDUMP(status)) << "no core file was written, and nothing pretends one was";
  {
    testkit::CoreDumpsReported core_dumps;
    ASSERT_EQ(waitpid(aborting_child(), &status, 0) > 0, true);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGABRT);
    EXPECT_TRUE(WCOREDUMP(status));
    EXPECT_EQ(status, SIGABRT | 0x80) << "what a raw status would hold: 134";
  }
  ASSERT_EQ(waitpid(aborting_child(), &status, 0) > 0, true);
  EXPECT_FALSE(WCOREDUMP(status)) << "once the CoreDumpsReported is gone, statuses are true again";
}

TEST(CoreDumpsReported, CoversWaitWaitidAndOnlyCoreDumpingSignals) {
  testkit::CoreDumpsReported core_dumps;
  int status = 0;
  aborting_child();
  ASSERT_GT(wait(&status), 0);
  EXPECT_TRUE(WCOREDUMP(status)) << "wait()";

  const pid_t killed = fork();
  if (killed == 0) hang_forever();
  kill(killed, SIGKILL);
  ASSERT_EQ(waitpid(killed, &status, 0), killed);
  EXPECT_FALSE(WCOREDUMP(status)) << "SIGKILL never writes a core file";

  const pid_t aborted = aborting_child();
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(aborted), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_DUMPED) << "waitid()";
  EXPECT_EQ(info.si_status, SIGABRT);
}

// LeakCheckedTest must fail a test during which a call was refused. As in testkit_test.cpp, its
// verdict is checked by running SetUp and TearDown by hand on a fixture object.
class RefusalCheck : public testkit::LeakCheckedTest {
 public:
  using LeakCheckedTest::SetUp;
  using LeakCheckedTest::TearDown;
  void TestBody() override {}
};

TEST(LeakCheckedTest, FailsATestDuringWhichACallWasRefused) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    RefusalCheck check;
    check.SetUp();
    kill(reaped_child(), SIGTERM);
    check.TearDown();
  }
  ASSERT_EQ(failures.size(), 1);
  const std::string message = failures.GetTestPartResult(0).message();
  EXPECT_NE(message.find("refused a call"), std::string::npos) << message;
  EXPECT_NE(message.find("already been reaped"), std::string::npos) << message;
}

TEST(LeakCheckedTest, PassesWhenNothingWasRefused) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter catcher(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    RefusalCheck check;
    check.SetUp();
    EXPECT_EQ(kill(getpid(), 0), 0);
    check.TearDown();
  }
  EXPECT_EQ(failures.size(), 0);
}

}  // namespace

#endif  // !defined(__SANITIZE_THREAD__)
