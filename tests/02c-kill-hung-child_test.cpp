// Tests for kata 02c: run_with_deadline() gives its children one deadline; a child still running
// then gets SIGTERM, all late children share one grace period, and whoever is left gets SIGKILL.
// Every child is reaped and reported (exit code or signal, timed out or not); no signal reaches
// a child already reaped, and the function returns as soon as every child has ended.
//
// Children are forked with SIGTERM blocked and unblock it once set up (see run()), so a slow
// child never gets SIGTERM before it has chosen how to take it. Every child dies with the test.
// The order of signals is watched from inside the children (sigpending(), testkit::ProcessWatch
// on siblings); the test program's kill() refuses a signal to a reaped child, which fails the
// test (testkit::LeakCheckedTest).
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kill_hung_child.hpp"
#include "testkit/deadline.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<int()>>;
using Outcomes = std::vector<kata::ChildOutcome>;

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

// Bodies of children that hang, each taking SIGTERM its own way.
int hang_but_obey_sigterm() {
  accept_sigterm();  // SIGTERM's default action: end the process
  hang_forever();
}
int hang_and_ignore_sigterm() {
  signal(SIGTERM, SIG_IGN);
  accept_sigterm();
  hang_forever();
}
int hang_then_clean_up_on_sigterm() {
  signal(SIGTERM, clean_up_and_leave);
  accept_sigterm();
  hang_forever();
}

// run_with_deadline inside a deadline of its own, so a missing timeout becomes a clear message.
//
// Children are forked with SIGTERM blocked (the signal mask is inherited), and each body
// unblocks it once it has set itself up. So a child that is slow to start cannot receive
// SIGTERM before it has installed its handler or ignored the signal: no race, on any machine.
Outcomes run(const Bodies& bodies, std::chrono::milliseconds timeout,
             std::chrono::milliseconds grace, const std::string& what,
             const std::string& hint =
                 "A child that never ends keeps a blocking waitpid() waiting forever. Does the "
                 "parent block in waitpid() on a child that hangs, instead of watching the clock "
                 "while it waits?") {
  // 3 s: the slowest correct run takes under 1 s even with other tests side by side, and a
  // starter that hangs costs this once per test (the check's budget, CONTRIBUTING.md).
  return testkit::finishes_within(
      3s, "run_with_deadline() " + what,
      [&] {
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &term, nullptr);  // this helper thread only
        return kata::run_with_deadline(testkit::each_dies_with_parent(bodies), timeout, grace);
      },
      hint);
}

class KillHungChild : public testkit::LeakCheckedTest {};

TEST_F(KillHungChild, ChildrenThatFinishInTimeReportTheirExitCodes) {
  Outcomes outcomes =
      run({[] { return 0; }, [] { return 7; }}, 5s, 1s, "with two children that return at once");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 0 && !outcomes[0].timed_out)
      << "child 0 returned 0 at once; it " << testkit::describe(outcomes[0]);
  EXPECT_TRUE(outcomes[1].exited && outcomes[1].exit_code == 7 && !outcomes[1].timed_out)
      << "child 1 returned 7 at once; it " << testkit::describe(outcomes[1]);
}

TEST_F(KillHungChild, AHungChildIsStoppedBySigterm) {
  Outcomes outcomes =
      run({hang_but_obey_sigterm}, 50ms, 2s, "with a child that hangs (it would obey SIGTERM)");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out) << "the child hung past the deadline, but its outcome says it "
                                     << testkit::describe(outcomes[0]);
  EXPECT_TRUE(!outcomes[0].exited && outcomes[0].signal == SIGTERM)
      << "this child obeys SIGTERM, and the grace period (2 s) was far longer than it needed, "
         "yet it "
      << testkit::describe(outcomes[0]) << ". Was it ever asked politely, before SIGKILL?";
}

TEST_F(KillHungChild, AChildThatIgnoresSigtermIsKilled) {
  Outcomes outcomes =
      run({hang_and_ignore_sigterm}, 50ms, 100ms, "with a child that hangs and ignores SIGTERM");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out) << "the child hung past the deadline, but its outcome says it "
                                     << testkit::describe(outcomes[0]);
  EXPECT_TRUE(!outcomes[0].exited && outcomes[0].signal == SIGKILL)
      << "this child ignores SIGTERM, so once the grace period is over only a signal it cannot "
         "catch or ignore ends it; it "
      << testkit::describe(outcomes[0]);
}

TEST_F(KillHungChild, SigtermComesFirstAndTheGracePeriodIsGiven) {
  Outcomes outcomes = run({hang_then_clean_up_on_sigterm}, 50ms, 3s,
                          "with a child that hangs, then cleans up for 0.1 s on SIGTERM");
  ASSERT_EQ(outcomes.size(), 1u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out) << "the child hung past the deadline, but its outcome says it "
                                     << testkit::describe(outcomes[0]);
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 42)
      << "on SIGTERM this child cleans up for 0.1 s and exits with 42, well inside the 3 s grace "
         "period; it "
      << testkit::describe(outcomes[0])
      << (outcomes[0].signal == SIGKILL
              ? ". It never got the chance to finish: did SIGKILL follow SIGTERM before the "
                "grace period was over?"
              : "");
}

TEST_F(KillHungChild, OtherChildrensResultsAreIntact) {
  Outcomes outcomes = run({[] { return 3; }, hang_and_ignore_sigterm,
                           [] {
                             std::this_thread::sleep_for(50ms);
                             return 5;
                           },
                           hang_but_obey_sigterm},
                          500ms, 100ms, "with two children that finish and two that hang");
  ASSERT_EQ(outcomes.size(), 4u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 3 && !outcomes[0].timed_out)
      << "child 0 returned 3 at once, long before the deadline; it "
      << testkit::describe(outcomes[0]);
  EXPECT_TRUE(outcomes[2].exited && outcomes[2].exit_code == 5 && !outcomes[2].timed_out)
      << "child 2 returned 5 after 0.05 s, long before the 0.5 s deadline; it "
      << testkit::describe(outcomes[2]);
  EXPECT_TRUE(outcomes[1].timed_out && outcomes[1].signal == SIGKILL)
      << "child 1 hung and ignored SIGTERM: expected timed out and killed by SIGKILL; it "
      << testkit::describe(outcomes[1]);
  EXPECT_TRUE(outcomes[3].timed_out && outcomes[3].signal == SIGTERM)
      << "child 3 hung but obeys SIGTERM: expected timed out and ended by SIGTERM; it "
      << testkit::describe(outcomes[3]);
}

TEST_F(KillHungChild, ReturnsAsSoonAsAllChildrenEnd) {
  // The deadline (60 s) is far beyond the 5 s this test allows: a function that sleeps until the
  // deadline instead of watching its children runs out of time here.
  Outcomes outcomes =
      run(Bodies(3, [] { return 0; }), 60s, 1s,
          "with a 60 s deadline and three children that return at once",
          "The children ended at once, long before the 60 s deadline. Does run_with_deadline "
          "sleep until the deadline instead of looking at its children while it waits?");
  ASSERT_EQ(outcomes.size(), 3u) << "run_with_deadline must return one outcome per body";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_FALSE(outcomes[i].timed_out)
        << "child " << i << " ended at once, long before the deadline; it "
        << testkit::describe(outcomes[i]);
  }
}

TEST_F(KillHungChild, NoProcessIsLeftBehind) {
  Outcomes outcomes = run({hang_and_ignore_sigterm, [] { return 0; }}, 50ms, 100ms,
                          "with one child that hangs and ignores SIGTERM");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  // Checked at once: a killed child must have been reaped before run_with_deadline returned.
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "run_with_deadline() returned while children were still around. A killed child is a "
         "zombie until somebody reaps it: was every killed child waited for?";
}

// Three children that hang and never let SIGTERM end them: each keeps SIGTERM blocked, so a
// SIGTERM sent to it stays pending, where sigpending() sees it. Each watches its siblings and
// writes down what it saw, and when.
constexpr int kWatchers = 3;
struct Watched {
  std::atomic<pid_t> pid[kWatchers];
  // 1 + j: child j was already dead while child i still had no SIGTERM; 0: never seen.
  std::atomic<int> saw_dead_before_sigterm[kWatchers];
  std::atomic<bool> got_sigterm[kWatchers];  // child i saw its SIGTERM pending
  // When child i first saw child j dead, and when child i last ran (steady clock, ns; 0: never).
  std::atomic<long long> saw_dead_at[kWatchers][kWatchers];
  std::atomic<long long> last_ran_at[kWatchers];
};

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Bodies watching_children(testkit::Shared<Watched>& watched) {
  Bodies bodies;
  for (int i = 0; i < kWatchers; ++i) {
    bodies.push_back([&watched, i]() -> int {
      Watched& w = *watched;
      w.pid[i] = getpid();
      std::unique_ptr<testkit::ProcessWatch> siblings[kWatchers];
      for (int j = 0; j < kWatchers; ++j) {
        testkit::eventually([&] { return w.pid[j] != 0; }, 3s);
        if (j == i || w.pid[j] == 0) continue;
        auto watch = std::make_unique<testkit::ProcessWatch>(w.pid[j]);
        if (watch->found()) siblings[j] = std::move(watch);  // else: already gone, or no /proc
      }
      for (;;) {
        // First look at the siblings, then at this child's SIGTERM. The order matters: when
        // run_with_deadline sends every SIGTERM before the first SIGKILL, a sibling found dead
        // here was killed after this child's SIGTERM was sent, so the check below sees it.
        int dead = -1;
        const long long now = now_ns();
        for (int j = 0; j < kWatchers; ++j) {
          if (siblings[j] && siblings[j]->ended()) {
            dead = j;
            if (w.saw_dead_at[i][j] == 0) w.saw_dead_at[i][j] = now;
          }
        }
        sigset_t pending;
        sigpending(&pending);
        const bool got_sigterm = sigismember(&pending, SIGTERM) == 1;
        if (got_sigterm) w.got_sigterm[i] = true;
        if (dead >= 0 && !got_sigterm && w.saw_dead_before_sigterm[i] == 0) {
          w.saw_dead_before_sigterm[i] = dead + 1;
        }
        w.last_ran_at[i] = now_ns();
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  return bodies;
}

TEST_F(KillHungChild, EveryLateChildGetsSigtermBeforeAnyIsKilled) {
  // If a child ever sees a sibling dead (only SIGKILL ends them) while no SIGTERM has reached it
  // yet, a SIGKILL came before the last SIGTERM: the children were stopped one by one.
  testkit::Shared<Watched> watched;
  Outcomes outcomes = run(watching_children(watched), 50ms, 200ms,
                          "with three children that hang and ignore SIGTERM");

  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kWatchers))
      << "run_with_deadline must return one outcome per body";
  for (int i = 0; i < kWatchers; ++i) {
    EXPECT_TRUE(outcomes[i].timed_out && !outcomes[i].exited && outcomes[i].signal == SIGKILL)
        << "child " << i << " hung and ignored SIGTERM: expected timed out and killed by "
        << "SIGKILL; it " << testkit::describe(outcomes[i]);
    const int dead = watched->saw_dead_before_sigterm[i].load() - 1;
    EXPECT_LT(dead, 0) << "child " << i
                       << (watched->got_sigterm[i] ? " had not been sent SIGTERM yet"
                                                   : " never had a SIGTERM at all")
                       << " when child " << dead
                       << " had already been killed. Were the late children stopped one after "
                          "another (deadline, SIGTERM, grace period, SIGKILL for one child, then "
                          "the next), so that n hung children take n deadlines and n grace "
                          "periods?";
  }
}

TEST_F(KillHungChild, LateChildrenShareOneGracePeriod) {
  // The same three children, a 0.3 s grace period. With one grace period for all, every child
  // left at its end is killed at once, so none runs on for long after seeing a sibling killed;
  // with a grace period of its own for each child, one after another, the next runs on for a
  // whole grace period. Half of it is the bound, far beyond any pause between two kill() calls.
  constexpr auto kGrace = 300ms;
  testkit::Shared<Watched> watched;
  Outcomes outcomes = run(watching_children(watched), 50ms, kGrace,
                          "with three children that hang and ignore SIGTERM (0.3 s grace)");

  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kWatchers))
      << "run_with_deadline must return one outcome per body";
  for (int i = 0; i < kWatchers; ++i) {
    EXPECT_TRUE(outcomes[i].timed_out && !outcomes[i].exited && outcomes[i].signal == SIGKILL)
        << "child " << i << " hung and ignored SIGTERM: expected timed out and killed by "
        << "SIGKILL; it " << testkit::describe(outcomes[i]);
    for (int j = 0; j < kWatchers; ++j) {
      const long long saw = watched->saw_dead_at[i][j].load();
      if (saw == 0) continue;
      const auto ran_on = std::chrono::nanoseconds(watched->last_ran_at[i].load() - saw);
      EXPECT_LT(ran_on, kGrace / 2)
          << "child " << i << " was still running "
          << std::chrono::duration_cast<std::chrono::milliseconds>(ran_on).count()
          << " ms after it saw child " << j << " killed, with a grace period of " << kGrace.count()
          << " ms. Did each late child get a grace period of "
             "its own, one after another, instead of one shared by them all?";
    }
  }
}

TEST_F(KillHungChild, ReturnsOnceTheChildrenLeaveInTheGracePeriod) {
  // The grace period (60 s) is far beyond the 5 s this test allows: a function that sleeps
  // through it instead of watching its children runs out of time here.
  Outcomes outcomes = run({hang_but_obey_sigterm, hang_then_clean_up_on_sigterm}, 50ms, 60s,
                          "with a 0.05 s deadline, a 60 s grace period and two hung children "
                          "that leave within 0.1 s of SIGTERM",
                          "These children leave within 0.1 s of SIGTERM. Did they never get it "
                          "(a blocking waitpid() on a hung child waits forever), or did "
                          "run_with_deadline sleep through the 60 s grace period after sending "
                          "it? The grace period is the longest the children may take, not a time "
                          "to wait out.");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out && !outcomes[0].exited && outcomes[0].signal == SIGTERM)
      << "child 0 hung and obeys SIGTERM: expected timed out and ended by SIGTERM; it "
      << testkit::describe(outcomes[0]);
  EXPECT_TRUE(outcomes[1].timed_out && outcomes[1].exited && outcomes[1].exit_code == 42)
      << "child 1 hung, and on SIGTERM it cleans up and exits with 42: expected timed out and "
         "exited with 42; it "
      << testkit::describe(outcomes[1]);
}

TEST_F(KillHungChild, AFailedForkReachesTheCallerAndLeavesNoChildBehind) {
  // The third fork() fails with EAGAIN, as when the system has no process left to give. The two
  // children already started hang: nothing but their parent will ever stop them.
  constexpr int kForked = 2;
  const std::string not_reported =
      testkit::failed_fork_not_reported(kForked, "run_with_deadline()", [&] {
        run(Bodies(4, hang_but_obey_sigterm), 50ms, 100ms,
            "with four children that hang, when the third fork() fails");
      });
  EXPECT_TRUE(not_reported.empty()) << not_reported;
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "after fork() failed for child " << kForked << ", run_with_deadline() ended, but the "
      << kForked
      << " hung children it had already started were left behind. Who stops and reaps them now?";
}

}  // namespace
