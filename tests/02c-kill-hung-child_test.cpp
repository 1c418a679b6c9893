// Tests for kata 02c: a deadline for children (SIGTERM, grace period, SIGKILL, reap).
#include "kill_hung_child.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<int()>>;
using Outcomes = std::vector<kata::ChildOutcome>;

// Runs in a child first thing: if the test process dies (say, after a TIMEOUT), the kernel
// kills this child too, so even a starter that hangs leaves no process behind.
void die_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(99);  // the parent was already gone
}

// Lets the calling child receive SIGTERM again (the test blocks it while forking; see run()).
void accept_sigterm() {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &term, nullptr);
}

// A child that never finishes on its own (pause() sleeps until a signal arrives).
[[noreturn]] void hang_forever() {
  for (;;) pause();
}

// A SIGTERM handler that "cleans up" for 100 ms, then leaves with code 42. Both calls are
// async-signal-safe, so they are allowed in a handler.
void clean_up_and_leave(int) {
  timespec cleanup{0, 100 * 1000 * 1000};
  nanosleep(&cleanup, nullptr);
  _exit(42);
}

// run_with_deadline inside a deadline of its own, so a missing timeout becomes a clear message.
//
// Children are forked with SIGTERM blocked (the signal mask is inherited), and each body
// unblocks it once it has set itself up. So a child that is slow to start cannot receive
// SIGTERM before it has installed its handler or ignored the signal: no race, on any machine.
Outcomes run(const Bodies& bodies, std::chrono::milliseconds timeout,
             std::chrono::milliseconds grace, const std::string& what) {
  return testkit::finishes_within(
      5s,
      "run_with_deadline() " + what +
          ". A child that never ends keeps a plain waitpid() waiting forever: wait with WNOHANG "
          "until the deadline, then send SIGTERM, wait the grace period, send SIGKILL and reap. "
          "run_with_deadline()",
      [&] {
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &term, nullptr);  // this helper thread only
        return kata::run_with_deadline(bodies, timeout, grace);
      });
}

std::string describe(const kata::ChildOutcome& o) {
  std::string text;
  if (o.exited) {
    text = "exited with code " + std::to_string(o.exit_code);
  } else if (o.signal != 0) {
    text = "was killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")";
  } else {
    text = "was never waited for (exited=false, signal=0)";
  }
  return text + (o.timed_out ? ", timed_out=true" : ", timed_out=false");
}

}  // namespace

class KillHungChild : public testkit::LeakCheckedTest {
 protected:
  const pid_t parent_ = getpid();
};

TEST_F(KillHungChild, ChildrenThatFinishInTimeReportTheirExitCodes) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent] {
                             die_with_parent(parent);
                             return 0;
                           },
                           [parent] {
                             die_with_parent(parent);
                             return 7;
                           }},
                          5s, 1s, "with two children that return at once");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 0 && !outcomes[0].timed_out)
      << "child 0 returned 0 at once; it " << describe(outcomes[0]);
  EXPECT_TRUE(outcomes[1].exited && outcomes[1].exit_code == 7 && !outcomes[1].timed_out)
      << "child 1 returned 7 at once; it " << describe(outcomes[1]);
}

TEST_F(KillHungChild, AHungChildIsStoppedBySigterm) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent]() -> int {
                            die_with_parent(parent);
                            accept_sigterm();  // SIGTERM's default action: end the process
                            hang_forever();
                          }},
                          200ms, 2s, "with a child that hangs (it would obey SIGTERM)");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out)
      << "the child hung past the deadline: report it as timed out; it " << describe(outcomes[0]);
  EXPECT_TRUE(!outcomes[0].exited && outcomes[0].signal == SIGTERM)
      << "a child that obeys SIGTERM should be ended by SIGTERM (ask politely first, SIGKILL "
         "only after the grace period); it "
      << describe(outcomes[0]);
}

TEST_F(KillHungChild, AChildThatIgnoresSigtermIsKilled) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent]() -> int {
                            die_with_parent(parent);
                            signal(SIGTERM, SIG_IGN);
                            accept_sigterm();
                            hang_forever();
                          }},
                          200ms, 300ms, "with a child that hangs and ignores SIGTERM");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out)
      << "the child hung past the deadline: report it as timed out; it " << describe(outcomes[0]);
  EXPECT_TRUE(!outcomes[0].exited && outcomes[0].signal == SIGKILL)
      << "this child ignores SIGTERM, so once the grace period is over only SIGKILL (which "
         "cannot be caught or ignored) ends it; it "
      << describe(outcomes[0]);
}

TEST_F(KillHungChild, SigtermComesFirstAndTheGracePeriodIsGiven) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent]() -> int {
                            die_with_parent(parent);
                            signal(SIGTERM, clean_up_and_leave);
                            accept_sigterm();
                            hang_forever();
                          }},
                          200ms, 3s,
                          "with a child that hangs, then cleans up for 0.1 s on SIGTERM");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out)
      << "the child hung past the deadline: report it as timed out; it " << describe(outcomes[0]);
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 42)
      << "on SIGTERM this child cleans up for 0.1 s and exits with 42, well inside the 3 s grace "
         "period; it "
      << describe(outcomes[0])
      << (outcomes[0].signal == SIGKILL
              ? ". It never got the chance: send SIGTERM first, then wait up to the grace period "
                "for the child to leave, and only then SIGKILL"
              : "");
}

TEST_F(KillHungChild, OtherChildrensResultsAreIntact) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent] {
                             die_with_parent(parent);
                             return 3;
                           },
                           [parent]() -> int {
                             die_with_parent(parent);
                             signal(SIGTERM, SIG_IGN);
                             accept_sigterm();
                             hang_forever();
                           },
                           [parent] {
                             die_with_parent(parent);
                             std::this_thread::sleep_for(50ms);
                             return 5;
                           },
                           [parent]() -> int {
                             die_with_parent(parent);
                             accept_sigterm();
                             hang_forever();
                           }},
                          500ms, 200ms, "with two children that finish and two that hang");
  ASSERT_EQ(outcomes.size(), 4u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 3 && !outcomes[0].timed_out)
      << "child 0 returned 3 at once, long before the deadline; it " << describe(outcomes[0]);
  EXPECT_TRUE(outcomes[2].exited && outcomes[2].exit_code == 5 && !outcomes[2].timed_out)
      << "child 2 returned 5 after 0.05 s, long before the 0.5 s deadline; it "
      << describe(outcomes[2]);
  EXPECT_TRUE(outcomes[1].timed_out && outcomes[1].signal == SIGKILL)
      << "child 1 hung and ignored SIGTERM: expected timed out and killed by SIGKILL; it "
      << describe(outcomes[1]);
  EXPECT_TRUE(outcomes[3].timed_out && outcomes[3].signal == SIGTERM)
      << "child 3 hung but obeys SIGTERM: expected timed out and ended by SIGTERM; it "
      << describe(outcomes[3]);
}

TEST_F(KillHungChild, ReturnsAsSoonAsAllChildrenEnd) {
  const pid_t parent = parent_;
  // The deadline (60 s) is far beyond the 5 s this test allows: a function that sleeps until the
  // deadline instead of watching its children runs out of time here.
  Outcomes outcomes = run(Bodies(3,
                                 [parent] {
                                   die_with_parent(parent);
                                   return 0;
                                 }),
                          60s, 1s,
                          "with a 60 s deadline and three children that return at once (it "
                          "must return when they end, not sleep until the deadline)");
  ASSERT_EQ(outcomes.size(), 3u) << "run_with_deadline must return one outcome per body";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_FALSE(outcomes[i].timed_out)
        << "child " << i << " ended at once, long before the deadline; it " << describe(outcomes[i]);
  }
}

TEST_F(KillHungChild, NoProcessIsLeftBehind) {
  const pid_t parent = parent_;
  Outcomes outcomes = run({[parent]() -> int {
                             die_with_parent(parent);
                             signal(SIGTERM, SIG_IGN);
                             accept_sigterm();
                             hang_forever();
                           },
                           [parent] {
                             die_with_parent(parent);
                             return 0;
                           }},
                          200ms, 200ms, "with one child that hangs and ignores SIGTERM");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  // Checked at once: a killed child must have been reaped before run_with_deadline returned.
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "run_with_deadline() returned while children were still around. A killed child is a "
         "zombie until somebody calls waitpid() for it: after SIGKILL, wait for it.";
}
