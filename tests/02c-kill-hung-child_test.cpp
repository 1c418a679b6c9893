// Tests for kata 02c: a deadline for children (SIGTERM, grace period, SIGKILL, reap).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kill_hung_child.hpp"
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
             std::chrono::milliseconds grace, const std::string& what,
             const std::string& hint =
                 "A child that never ends keeps a plain waitpid() waiting forever: wait with "
                 "WNOHANG until the deadline, then send SIGTERM, poll again for at most the grace "
                 "period, send SIGKILL and reap.") {
  return testkit::finishes_within(
      5s, "run_with_deadline() " + what,
      [&] {
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &term, nullptr);  // this helper thread only
        return kata::run_with_deadline(bodies, timeout, grace);
      },
      hint);
}

// A T (zero-initialised) in memory that the test and its children share: what a child writes
// there, the test sees after the child is gone.
template <typename T>
class Shared {
 public:
  Shared() {
    void* memory =
        mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap failed");
    value_ = new (memory) T{};
  }
  ~Shared() {
    value_->~T();
    munmap(value_, sizeof(T));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  T& operator*() { return *value_; }

 private:
  T* value_;
};

// Lets a child watch a sibling (not its own child, so no waitpid) through /proc/<pid>. The open
// directory stays tied to that very process, even if its pid is reused after it was reaped.
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid)
      : dir_(open(("/proc/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~ProcessWatch() {
    if (dir_ >= 0) close(dir_);
  }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  bool found() const { return dir_ >= 0; }

  // True once the process has ended: a zombie, or already reaped.
  bool ended() const {
    if (dir_ < 0) return true;
    const int fd = openat(dir_, "stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;
    char buffer[512];
    const ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) return true;
    buffer[n] = '\0';
    const char* close_paren = std::strrchr(buffer, ')');  // the state letter follows ") "
    if (close_paren == nullptr || close_paren[1] != ' ') return false;
    const char state = close_paren[2];
    return state == 'Z' || state == 'X' || state == 'x';
  }

 private:
  int dir_;
};

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
  Outcomes outcomes =
      run({[parent]() -> int {
            die_with_parent(parent);
            signal(SIGTERM, clean_up_and_leave);
            accept_sigterm();
            hang_forever();
          }},
          200ms, 3s, "with a child that hangs, then cleans up for 0.1 s on SIGTERM");
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
                          60s, 1s, "with a 60 s deadline and three children that return at once",
                          "The children ended at once, long before the 60 s deadline: keep "
                          "polling them with waitpid(WNOHANG) and return as soon as all have "
                          "ended, instead of sleeping until the deadline.");
  ASSERT_EQ(outcomes.size(), 3u) << "run_with_deadline must return one outcome per body";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_FALSE(outcomes[i].timed_out)
        << "child " << i << " ended at once, long before the deadline; it "
        << describe(outcomes[i]);
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

TEST_F(KillHungChild, EveryLateChildGetsSigtermBeforeAnyIsKilled) {
  // Three children hang and never let SIGTERM end them. Each keeps SIGTERM blocked, so a
  // SIGTERM sent to it stays pending, where sigpending() sees it, and watches its siblings.
  // If it ever sees a sibling dead (only SIGKILL ends them) while no SIGTERM has reached it
  // yet, a SIGKILL came before the last SIGTERM: the children were stopped one by one.
  constexpr int kChildren = 3;
  struct Record {
    std::atomic<pid_t> pid[kChildren];
    // 1 + j: child j was already dead while child i still had no SIGTERM; 0: never seen.
    std::atomic<int> saw_dead_before_sigterm[kChildren];
    std::atomic<bool> got_sigterm[kChildren];  // child i saw its SIGTERM pending
  };
  Shared<Record> record;
  const pid_t parent = parent_;
  Bodies bodies;
  for (int i = 0; i < kChildren; ++i) {
    bodies.push_back([parent, i, &record]() -> int {
      die_with_parent(parent);
      Record& r = *record;
      r.pid[i] = getpid();
      std::unique_ptr<ProcessWatch> siblings[kChildren];
      const auto give_up = std::chrono::steady_clock::now() + 3s;
      for (int j = 0; j < kChildren; ++j) {
        while (r.pid[j] == 0 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(1ms);
        }
        if (j == i || r.pid[j] == 0) continue;
        auto watch = std::make_unique<ProcessWatch>(r.pid[j]);
        if (watch->found()) siblings[j] = std::move(watch);  // else: already gone, or no /proc
      }
      for (;;) {
        // First look at the siblings, then at this child's SIGTERM. The order matters: when
        // run_with_deadline sends every SIGTERM before the first SIGKILL, a sibling found dead
        // here was killed after this child's SIGTERM was sent, so the check below sees it.
        int dead = -1;
        for (int j = 0; j < kChildren; ++j) {
          if (siblings[j] && siblings[j]->ended()) dead = j;
        }
        sigset_t pending;
        sigpending(&pending);
        const bool got_sigterm = sigismember(&pending, SIGTERM) == 1;
        if (got_sigterm) r.got_sigterm[i] = true;
        if (dead >= 0 && !got_sigterm && r.saw_dead_before_sigterm[i] == 0) {
          r.saw_dead_before_sigterm[i] = dead + 1;
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  Outcomes outcomes = run(bodies, 300ms, 300ms, "with three children that hang and ignore SIGTERM");

  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kChildren))
      << "run_with_deadline must return one outcome per body";
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_TRUE(outcomes[i].timed_out && !outcomes[i].exited && outcomes[i].signal == SIGKILL)
        << "child " << i << " hung and ignored SIGTERM: expected timed out and killed by "
        << "SIGKILL; it " << describe(outcomes[i]);
    const int dead = (*record).saw_dead_before_sigterm[i].load() - 1;
    const bool all_sigterms_came_first = dead < 0;
    if ((*record).got_sigterm[i]) {
      EXPECT_TRUE(all_sigterms_came_first)
          << "child " << i << " had not been sent SIGTERM yet when child " << dead
          << " had already been killed: the late children were stopped one after another "
             "(deadline, SIGTERM, grace period, SIGKILL for one child, then the next), so n hung "
             "children take n times the deadline and the grace period. All children share one "
             "deadline: when it passes, send SIGTERM to every child still running, give them "
             "all the same grace period together, and only then SIGKILL the ones that are left.";
    } else {
      EXPECT_TRUE(all_sigterms_came_first)
          << "child " << i << " never had a SIGTERM, and saw child " << dead
          << " killed: when the deadline passes, send SIGTERM to every child still running "
             "first, give them the grace period, and only then SIGKILL the ones that are left.";
    }
  }
}

TEST_F(KillHungChild, ReturnsOnceTheChildrenLeaveInTheGracePeriod) {
  const pid_t parent = parent_;
  // The grace period (60 s) is far beyond the 5 s this test allows: a function that sleeps
  // through it instead of watching its children runs out of time here.
  Outcomes outcomes = run({[parent]() -> int {
                             die_with_parent(parent);
                             accept_sigterm();  // SIGTERM's default action: end the process
                             hang_forever();
                           },
                           [parent]() -> int {
                             die_with_parent(parent);
                             signal(SIGTERM, clean_up_and_leave);
                             accept_sigterm();
                             hang_forever();
                           }},
                          200ms, 60s,
                          "with a 0.2 s deadline, a 60 s grace period and two hung children "
                          "that leave within 0.1 s of SIGTERM",
                          "These children leave within 0.1 s of SIGTERM. Either they never got "
                          "it (a plain waitpid() on a hung child waits forever: poll with "
                          "WNOHANG until the deadline, then send SIGTERM), or run_with_deadline "
                          "slept through the 60 s grace period after sending it. During the "
                          "grace period keep polling with waitpid(WNOHANG) and return as soon as "
                          "every child has ended: the grace period is the longest they may "
                          "take, not a time to wait out.");
  ASSERT_EQ(outcomes.size(), 2u) << "run_with_deadline must return one outcome per body";
  EXPECT_TRUE(outcomes[0].timed_out && !outcomes[0].exited && outcomes[0].signal == SIGTERM)
      << "child 0 hung and obeys SIGTERM: expected timed out and ended by SIGTERM; it "
      << describe(outcomes[0]);
  EXPECT_TRUE(outcomes[1].timed_out && outcomes[1].exited && outcomes[1].exit_code == 42)
      << "child 1 hung, and on SIGTERM it cleans up and exits with 42: expected timed out and "
         "exited with 42; it "
      << describe(outcomes[1]);
}
