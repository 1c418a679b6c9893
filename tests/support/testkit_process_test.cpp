// Self-tests of testkit/process.hpp, testkit/proc_stat.hpp and testkit/descriptors.hpp: memory
// shared with children, the process latch, children that die with their parent, describe(),
// ProcessWatch, blocked_in_wait(), and the descriptor counts; each also where it must say no.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/proc_stat.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<int()>>;

// A child that stays until it is killed.
[[noreturn]] void hang_forever() {
  for (;;) pause();
}

TEST(Shared, AChildsWriteReachesTheParent) {
  testkit::Shared<std::atomic<int>> number;
  EXPECT_EQ(number->load(), 0) << "a Shared<T> starts value-initialised";
  const auto statuses = testkit::run_in_children({[&number] {
    number->store(42);
    return 0;
  }});
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(number->load(), 42);
}

TEST(Shared, BuildsItsValueFromArguments) {
  struct Pair {
    Pair(int a, int b) : first(a), second(b) {}
    int first;
    int second;
  };
  testkit::Shared<Pair> pair(3, 4);
  EXPECT_EQ(pair->first, 3);
  EXPECT_EQ((*pair).second, 4);
}

TEST(Shared, OrdinaryMemoryIsNotShared) {
  // The contrast that makes Shared necessary: a child's write to ordinary memory stays in the
  // child. If this ever passed the other way, the tests above would prove nothing.
  int number = 0;
  testkit::run_in_children({[&number] {
    number = 42;
    return 0;
  }});
  EXPECT_EQ(number, 0);
}

TEST(ProcessLatch, ReleasesEveryProcessOnceAllHaveArrived) {
  constexpr int kChildren = 3;
  testkit::Shared<testkit::ProcessLatch> start(kChildren);
  const auto statuses = testkit::run_in_children(
      Bodies(kChildren, [&start] { return start->arrive_and_wait(5000ms) ? 0 : 1; }));
  for (const auto& child : statuses) {
    EXPECT_TRUE(child.exited && child.exit_code == 0) << testkit::describe(child);
  }
  EXPECT_EQ(start->arrived(), kChildren);
}

TEST(ProcessLatch, GivesUpWhenNotEveryoneArrives) {
  testkit::Shared<testkit::ProcessLatch> start(3);
  const auto statuses = testkit::run_in_children(
      Bodies(2, [&start] { return start->arrive_and_wait(100ms) ? 0 : 1; }));
  for (const auto& child : statuses) {
    EXPECT_TRUE(child.exited && child.exit_code == 1)
        << "only 2 of 3 arrived, so the latch must give up; the child " << testkit::describe(child);
  }
  EXPECT_TRUE(start->broken());
}

TEST(ProcessLatch, ABrokenLatchLetsLaterArrivalsGoAtOnce) {
  // What a parent that waits for each child before forking the next one looks like: the
  // children arrive one after another. The first gives up after 0.1 s; the later ones, willing
  // to wait a minute, must see the latch broken and return at once.
  testkit::Shared<testkit::ProcessLatch> start(3);
  testkit::finishes_within(10s, "three children arriving one after another", [&start] {
    for (int i = 0; i < 3; ++i) {
      const auto deadline = i == 0 ? 100ms : 60000ms;
      const auto statuses = testkit::run_in_children(
          {[&start, deadline] { return start->arrive_and_wait(deadline) ? 0 : 1; }});
      EXPECT_EQ(statuses[0].exit_code, 1) << "child " << i;
    }
  });
  EXPECT_EQ(start->arrived(), 3);
}

TEST(RunInChildren, ReportsExitCodesAndSignalsInTheOrderOfTheBodies) {
  const auto statuses = testkit::run_in_children({[] { return 7; },
                                                  []() -> int {
                                                    raise(SIGKILL);
                                                    return 0;
                                                  },
                                                  [] { return 0; }});
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].exited && statuses[0].exit_code == 7) << testkit::describe(statuses[0]);
  EXPECT_TRUE(!statuses[1].exited && statuses[1].signal == SIGKILL)
      << testkit::describe(statuses[1]);
  EXPECT_TRUE(statuses[2].exited && statuses[2].exit_code == 0) << testkit::describe(statuses[2]);
  EXPECT_NE(statuses[0].pid, statuses[2].pid);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "every child must have been reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST(DieWithParent, AChildWhoseParentIsAlreadyGoneEndsAtOnce) {
  const auto statuses = testkit::run_in_children({[] {
    testkit::die_with_parent(getppid() + 1);  // not its parent: as if the parent were gone
    return 0;
  }});
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_TRUE(statuses[0].exited && statuses[0].exit_code == 99) << testkit::describe(statuses[0]);
}

TEST(DieWithParent, AWrappedBodyRunsAndReturnsItsValue) {
  const auto wrapped = testkit::each_dies_with_parent(Bodies{[] { return 3; }, [] { return 4; }});
  ASSERT_EQ(wrapped.size(), 2u);
  const auto statuses = testkit::run_in_children(wrapped);
  EXPECT_TRUE(statuses[0].exited && statuses[0].exit_code == 3) << testkit::describe(statuses[0]);
  EXPECT_TRUE(statuses[1].exited && statuses[1].exit_code == 4) << testkit::describe(statuses[1]);
}

TEST(DieWithParent, AChildDiesWhenItsParentEnds) {
  // A middle process forks a grandchild that would hang forever, then ends. The grandchild
  // must be gone soon after; until the middle process ends, it must keep running.
  struct Seen {
    std::atomic<pid_t> grandchild{0};
    std::atomic<bool> release_middle{false};
  };
  testkit::Shared<Seen> seen;
  const pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    auto body = testkit::dies_with_parent([]() -> int { hang_forever(); });  // names the middle
    const pid_t grandchild = fork();
    if (grandchild == 0) _exit(body());
    seen->grandchild = grandchild;
    testkit::eventually([&] { return seen->release_middle.load(); }, 5000ms);
    _exit(0);
  }
  ASSERT_TRUE(testkit::eventually([&] { return seen->grandchild.load() != 0; }, 5000ms));
  testkit::ProcessWatch grandchild(seen->grandchild.load());
  ASSERT_TRUE(grandchild.found());
  EXPECT_FALSE(testkit::eventually([&] { return grandchild.ended(); }, 50ms))
      << "the grandchild must keep running while its parent lives";
  seen->release_middle = true;
  EXPECT_TRUE(testkit::wait_for_child(middle).exited);
  EXPECT_TRUE(testkit::eventually([&] { return grandchild.ended(); }, 5000ms))
      << "the grandchild outlived its parent";
}

TEST(Describe, SaysHowAChildEnded) {
  testkit::ChildStatus status;
  status.exited = true;
  status.exit_code = 3;
  EXPECT_EQ(testkit::describe(status), "exited with code 3");
  status = {};
  status.signal = SIGABRT;
  EXPECT_EQ(testkit::describe(status),
            "was killed by signal " + std::to_string(SIGABRT) + " (" + strsignal(SIGABRT) + ")");
  status = {};
  EXPECT_NE(testkit::describe(status).find("was it ever waited for?"), std::string::npos)
      << testkit::describe(status);
}

TEST(Describe, NamesValuesThatCanOnlyBeARawStatusWord) {
  testkit::ChildStatus status;
  status.exited = true;
  status.exit_code = 3 << 8;  // the raw status of a child that exited with 3
  EXPECT_NE(testkit::describe(status).find("raw status word"), std::string::npos)
      << testkit::describe(status);
  status = {};
  status.signal = SIGABRT | 0x80;  // the raw status of SIGABRT with a core dump: 134
  EXPECT_NE(testkit::describe(status).find("no signal number"), std::string::npos)
      << testkit::describe(status);
}

TEST(Describe, AddsTimedOutWhenTheOutcomeHasIt) {
  struct Outcome {
    pid_t pid = 1;
    bool exited = false;
    int exit_code = -1;
    int signal = SIGKILL;
    bool timed_out = true;
  };
  EXPECT_NE(testkit::describe(Outcome{}).find("(timed_out=true)"), std::string::npos)
      << testkit::describe(Outcome{});
  EXPECT_EQ(testkit::describe(testkit::ChildStatus{}).find("timed_out"), std::string::npos);
}

TEST(ProcessWatch, SeesAChildRunEndAndGetReaped) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) hang_forever();
  testkit::ProcessWatch watch(pid);
  ASSERT_TRUE(watch.found());
  EXPECT_FALSE(watch.ended()) << "a running child has not ended";
  EXPECT_FALSE(watch.reaped());
  EXPECT_EQ(testkit::read_proc_stat(pid).parent, getpid());
  kill(pid, SIGKILL);
  EXPECT_TRUE(testkit::eventually([&] { return watch.ended(); }, 5000ms))
      << "a killed child is a zombie until reaped, and ended() must say so";
  EXPECT_FALSE(watch.reaped()) << "nobody has reaped it yet";
  EXPECT_EQ(testkit::read_proc_stat(pid).state, 'Z');
  testkit::wait_for_child(pid);
  EXPECT_TRUE(watch.reaped());
  EXPECT_TRUE(watch.ended());
}

TEST(ProcessWatch, AProcessThatIsGoneIsNotFound) {
  const auto statuses = testkit::run_in_children({[] { return 0; }});
  testkit::ProcessWatch watch(statuses[0].pid);  // reaped already (unless the pid was reused)
  testkit::ProcessWatch nobody(-1);
  EXPECT_FALSE(nobody.found());
  EXPECT_TRUE(nobody.ended());
  EXPECT_TRUE(nobody.reaped());
  EXPECT_EQ(testkit::read_proc_stat(-1).state, 0);
}

TEST(BlockedInWait, SeesAParentBlockedInWaitpid) {
  // The child looks at this process while the test blocks in waitpid() for it.
  const auto statuses = testkit::run_in_children({[] {
    return testkit::eventually([] { return testkit::blocked_in_wait(getppid()); }, 5000ms) ? 0 : 1;
  }});
  char wchan[64] = {};
  const int fd = open("/proc/self/wchan", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)read(fd, wchan, sizeof wchan - 1);
    close(fd);
  }
  if (statuses[0].exit_code == 1 && std::string(wchan) == "0") {
    GTEST_SKIP() << "this kernel does not name the function a thread sleeps in (wchan is 0)";
  }
  EXPECT_TRUE(statuses[0].exited && statuses[0].exit_code == 0)
      << "the child never saw the test blocked in waitpid(); it " << testkit::describe(statuses[0]);
}

TEST(BlockedInWait, ARunningProcessIsNotBlockedInWait) {
  EXPECT_FALSE(testkit::blocked_in_wait(getpid())) << "no thread of this test is in wait()";
  EXPECT_FALSE(testkit::blocked_in_wait(-1));
}

TEST(Descriptors, SeeBothEndsOfANewPipe) {
  const int before = testkit::open_descriptor_count();
  const auto pipes_before = testkit::open_pipe_ends().size();
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  EXPECT_EQ(testkit::open_descriptor_count(), before + 2);
  const auto pipes = testkit::open_pipe_ends();
  ASSERT_EQ(pipes.size(), pipes_before + 2);
  const testkit::PipeEnd* read_end = nullptr;
  const testkit::PipeEnd* write_end = nullptr;
  for (const auto& end : pipes) {
    if (end.fd == ends[0]) read_end = &end;
    if (end.fd == ends[1]) write_end = &end;
  }
  ASSERT_NE(read_end, nullptr);
  ASSERT_NE(write_end, nullptr);
  EXPECT_TRUE(read_end->read_end);
  EXPECT_FALSE(write_end->read_end);
  EXPECT_EQ(read_end->pipe, write_end->pipe) << "both ends belong to one pipe";
  close(ends[0]);
  close(ends[1]);
  EXPECT_EQ(testkit::open_descriptor_count(), before);
  EXPECT_EQ(testkit::open_pipe_ends().size(), pipes_before);
}

TEST(Descriptors, AFileIsNoPipe) {
  const auto pipes_before = testkit::open_pipe_ends().size();
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(testkit::open_pipe_ends().size(), pipes_before);
  close(fd);
}

}  // namespace
