// Tests for kata 02a: fork children, wait for every one, report how each ended.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fork_join.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"

namespace {

using Bodies = std::vector<std::function<int()>>;
using Outcomes = std::vector<kata::ChildOutcome>;

// fork_join with a deadline: a hang becomes a clear TIMEOUT message instead of a stuck test.
Outcomes run(const Bodies& bodies, const std::string& what,
             std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  return testkit::finishes_within(
      deadline, what, [&] { return kata::fork_join(bodies); },
      "The parent waits in waitpid() until a child ends. A child that never reaches _exit() keeps "
      "it waiting: end every child with _exit() right after its body, so that it never returns "
      "into the caller's code, and call waitpid() exactly once for each child you forked.");
}

std::string describe(const kata::ChildOutcome& o) {
  if (o.exited) return "exited with code " + std::to_string(o.exit_code);
  if (o.signal > 64) {
    return "killed by \"signal\" " + std::to_string(o.signal) +
           ", which is no signal number: it looks like the raw status word from waitpid() (a "
           "core dump sets one more bit in it, see WCOREDUMP). Take the signal out of it with "
           "WTERMSIG(status)";
  }
  if (o.signal != 0) {
    return "killed by signal " + std::to_string(o.signal) + " (" + strsignal(o.signal) + ")";
  }
  return "neither exited nor was killed (exited=false, signal=0, exit_code=" +
         std::to_string(o.exit_code) + "): nobody waited for it";
}

// Why an exit code is wrong, in the learner's terms.
std::string exit_code_hint(int got, int expected) {
  if (got == -1) return "no exit code was recorded: wait for the child with waitpid() first";
  if (got == expected << 8) {
    return "that is the raw status word from waitpid(); take the code out of it with "
           "WEXITSTATUS(status)";
  }
  return "the exit code is WEXITSTATUS(status) of that child's own waitpid() status";
}

// A child that aborts would write a core file on machines that allow them; keep it quiet.
[[noreturn]] void abort_without_core_file() {
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  std::abort();
}

// Waits for children that fork_join may have left running, so that whatever they do at exit
// has surely happened before the test looks at its effects. (Reaping them here does not hide
// the zombies: LeavesNoZombiesBehind checks that on its own.)
void wait_for_stragglers(const Outcomes& outcomes) {
  for (const auto& o : outcomes) {
    if (o.pid > 0) waitpid(o.pid, nullptr, 0);  // ECHILD when fork_join already reaped it
  }
}

// A T (zero-initialised) in memory that parent and children share, so a test can watch the
// children: what one child writes there, the parent and every other child see.
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
  T* operator->() { return value_; }

 private:
  T* value_;
};
using SharedInt = Shared<std::atomic<int>>;

// Watches one process (any process, not only a child) through its /proc/<pid> directory. The
// open directory stays tied to that very process: once it has been reaped, reading it fails
// even if the kernel has given the pid to a new process meanwhile.
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid)
      : dir_(open(("/proc/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~ProcessWatch() {
    if (dir_ >= 0) close(dir_);
  }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // Ended: a zombie (its parent can now reap it) or already reaped.
  bool ended() const {
    const char s = state();
    return s == 'Z' || s == 'X' || s == 'x' || s == 0;
  }
  bool reaped() const { return state() == 0; }

 private:
  // The state letter of /proc/<pid>/stat (R, S, Z, ...), or 0 once the process is gone.
  char state() const {
    if (dir_ < 0) return 0;
    const int fd = openat(dir_, "stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buffer[512];
    const ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (n <= 0) return 0;
    buffer[n] = '\0';
    const char* close_paren = std::strrchr(buffer, ')');  // comm may hold spaces and ')'
    return close_paren != nullptr && close_paren[1] == ' ' ? close_paren[2] : 0;
  }

  int dir_;
};

// While a test sets it, the atexit handler below counts its runs into this shared int.
std::atomic<int>* g_atexit_runs = nullptr;
void count_atexit_run() {
  if (g_atexit_runs != nullptr) g_atexit_runs->fetch_add(1);
}

}  // namespace

class ForkJoin : public testkit::LeakCheckedTest {};

TEST_F(ForkJoin, ReportsEachChildsExitCode) {
  const std::vector<int> codes = {0, 3, 42};
  Bodies bodies;
  for (int code : codes) bodies.push_back([code] { return code; });
  Outcomes outcomes = run(bodies, "fork_join() with three children that return at once");

  ASSERT_EQ(outcomes.size(), codes.size())
      << "fork_join must return one outcome per body, in the same order as the bodies";
  std::set<pid_t> pids;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const auto& o = outcomes[i];
    EXPECT_GT(o.pid, 0) << "outcome " << i
                        << " has no pid: record what fork() returned in the parent";
    EXPECT_NE(o.pid, getpid()) << "outcome " << i
                               << " carries the parent's own pid: did the body run in a child?";
    pids.insert(o.pid);
    EXPECT_TRUE(o.exited) << "child " << i << " returned " << codes[i]
                          << " but the outcome says: " << describe(o)
                          << ". Wait for it with waitpid() and check WIFEXITED(status).";
    EXPECT_EQ(o.exit_code, codes[i]) << "child " << i << " returned " << codes[i] << ": "
                                     << exit_code_hint(o.exit_code, codes[i]);
  }
  EXPECT_EQ(pids.size(), codes.size()) << "every child is a process of its own, with its own pid";
}

TEST_F(ForkJoin, ReportsTheSignalThatKilledAChild) {
  Outcomes outcomes = run({[]() -> int { abort_without_core_file(); },
                           [] {
                             raise(SIGKILL);
                             return 0;
                           },
                           [] { return 5; }},
                          "fork_join() with a child that aborts and one that is killed");

  ASSERT_EQ(outcomes.size(), 3u) << "fork_join must return one outcome per body";
  EXPECT_FALSE(outcomes[0].exited)
      << "child 0 called abort(), so a signal ended it; it did not exit normally. The outcome "
         "says: "
      << describe(outcomes[0]);
  EXPECT_EQ(outcomes[0].signal, SIGABRT)
      << "child 0 called abort(), which ends it with SIGABRT (" << SIGABRT
      << "); the outcome says: " << describe(outcomes[0])
      << ". When WIFSIGNALED(status) is true, WTERMSIG(status) names the signal.";
  EXPECT_FALSE(outcomes[1].exited)
      << "child 1 was killed by SIGKILL; the outcome says: " << describe(outcomes[1]);
  EXPECT_EQ(outcomes[1].signal, SIGKILL) << "child 1 was killed by SIGKILL (" << SIGKILL
                                         << "); the outcome says: " << describe(outcomes[1]);
  EXPECT_TRUE(outcomes[2].exited && outcomes[2].exit_code == 5)
      << "child 2 returned 5, next to children that crashed; the outcome says: "
      << describe(outcomes[2]);
  EXPECT_EQ(outcomes[2].signal, 0) << "a child that exited normally was not killed by a signal";
}

TEST_F(ForkJoin, ABodyThatThrowsEndsItsChildWithCode1) {
  Outcomes outcomes = run({[]() -> int { throw std::runtime_error("boom"); }},
                          "fork_join() with a child whose body throws");
  ASSERT_EQ(outcomes.size(), 1u) << "fork_join must return one outcome per body";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 1)
      << "a body that throws ends its child with exit code 1 (the exception must never escape "
         "the child); the outcome says: "
      << describe(outcomes[0]);
}

TEST_F(ForkJoin, ChildChangesOnlyItsOwnCopyOfMemory) {
  int number = 1;
  std::vector<int> numbers(1000, 7);
  Outcomes outcomes =
      run({[&] {
            number = 99;
            numbers.assign(1000, 0);
            numbers[0] = 42;
            // Report what the child sees in its own copy.
            return (number == 99 && numbers[0] == 42 && numbers[999] == 0) ? 10 : 20;
          }},
          "fork_join() with a child that overwrites the parent's variables");

  ASSERT_EQ(outcomes.size(), 1u) << "fork_join must return one outcome per body";
  EXPECT_EQ(number, 1) << "the child's write reached the parent's variable: the body must run in "
                          "a child process (fork), not in a thread of the parent";
  EXPECT_EQ(numbers[0], 7) << "the child's write reached the parent's vector: the body must run "
                              "in a child process (fork), not in a thread of the parent";
  EXPECT_EQ(numbers[999], 7) << "the child's write reached the parent's vector";
  EXPECT_TRUE(outcomes[0].exited && outcomes[0].exit_code == 10)
      << "the child should see its own changes and return 10; the outcome says: "
      << describe(outcomes[0]);
}

TEST_F(ForkJoin, LeavesNoZombiesBehind) {
  Bodies bodies(4, [] { return 0; });
  Outcomes outcomes = run(bodies, "fork_join() with four children that return at once");
  ASSERT_EQ(outcomes.size(), 4u) << "fork_join must return one outcome per body";
  // Checked at once (no grace period): when fork_join returns, every child must be gone.
  EXPECT_TRUE(testkit::no_leftover_children(std::chrono::milliseconds(0)))
      << "fork_join() returned while some of its children were still around. Call waitpid() "
         "once for every child you fork; that is what join() does in Python.";
}

TEST_F(ForkJoin, ChildrenRunAtTheSameTime) {
  constexpr int kChildren = 3;
  SharedInt arrived;
  Bodies bodies(kChildren, [&arrived] {
    // Each child says it is running, then waits (at most 1.5 s) until all of them are.
    ++*arrived;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while ((*arrived).load() < kChildren) {
      if (std::chrono::steady_clock::now() > give_up) return 9;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return 0;
  });
  Outcomes outcomes = run(bodies, "fork_join() with three children that wait for each other",
                          std::chrono::seconds(8));
  wait_for_stragglers(outcomes);

  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kChildren))
      << "fork_join must return one outcome per body";
  EXPECT_EQ((*arrived).load(), kChildren) << "not every body ran";
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_TRUE(outcomes[i].exited && outcomes[i].exit_code == 0)
        << "child " << i << " " << describe(outcomes[i])
        << (outcomes[i].exit_code == 9
                ? ": it waited 1.5 s for the other children to be running too and gave up. "
                  "Start every child before waiting for any (no waitpid inside the fork loop)."
                : ": expected exit code 0");
  }
}

TEST_F(ForkJoin, ParentsUnwrittenOutputIsWrittenOnlyOnce) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("kata02a-" + std::to_string(getpid()) + "-output.txt");
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << "could not create " << path;
  // Fully buffered (the default for files): the line stays in this process's buffer, not yet
  // in the file, when the children are forked. Each child gets a copy of that buffer.
  std::setvbuf(file, nullptr, _IOFBF, 4096);
  const std::string line = "a line the parent wrote once\n";
  std::fputs(line.c_str(), file);

  Outcomes outcomes = run(Bodies(3, [] { return 0; }),
                          "fork_join() while the parent has unwritten output in a FILE*");
  wait_for_stragglers(outcomes);
  std::fclose(file);  // the parent's own, single, flush

  std::ifstream in(path);
  const std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove(path);
  std::size_t copies = 0;
  for (auto at = content.find(line); at != std::string::npos; at = content.find(line, at + 1)) {
    ++copies;
  }
  EXPECT_EQ(copies, 1u)
      << "the parent wrote its line once, but the file holds it " << copies
      << " times. Each child that ends with exit() flushes the stdio buffers it inherited, "
         "which hold a copy of the parent's unwritten data. End the child with _exit(), which "
         "skips stdio flushing and atexit handlers.";
}

TEST_F(ForkJoin, ChildrenThatEndInReverseOrderAreMatchedByPid) {
  // Child i ends only after child i + 1 has ended: the last child forked ends first, the first
  // one last. Each returns its own code 20 + i, so a status given to the wrong outcome shows.
  constexpr int kChildren = 4;
  constexpr int kGaveUp = 9;
  struct Order {
    std::atomic<pid_t> pid[kChildren];     // set by child i when it runs
    std::atomic<bool> watched[kChildren];  // child i - 1 is watching child i
    std::atomic<bool> gave_up;
  };
  Shared<Order> order;
  Bodies bodies;
  for (int i = 0; i < kChildren; ++i) {
    bodies.push_back([&order, i] {
      Order& o = *order;
      o.pid[i] = getpid();
      // Every wait is bounded: children run one after another (the parent waits inside its
      // fork loop) would otherwise wait for each other forever.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      auto wait_for = [&](auto done) {
        while (!done()) {
          if (o.gave_up || std::chrono::steady_clock::now() > give_up) {
            o.gave_up = true;
            return false;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return true;
      };
      std::optional<ProcessWatch> next;
      if (i + 1 < kChildren) {
        if (!wait_for([&] { return o.pid[i + 1] != 0; })) return kGaveUp;
        next.emplace(o.pid[i + 1]);
        o.watched[i + 1] = true;
      }
      // Don't end before child i - 1 watches this process, so it surely sees it end.
      if (i > 0 && !wait_for([&] { return o.watched[i].load(); })) return kGaveUp;
      if (next && !wait_for([&] { return next->ended(); })) return kGaveUp;
      if (i == 0) {
        // The first child stays until the parent has reaped child 1 (at most 0.5 s): a parent
        // that takes whichever child ends first has by then taken a status that is not child
        // 0's. A parent that waits for child 0 first reaps nobody before it; it costs 0.5 s.
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        while (!next->reaped() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      return 20 + i;
    });
  }
  Outcomes outcomes =
      run(bodies, "fork_join() with four children that end in reverse order (the last first)",
          std::chrono::seconds(8));
  wait_for_stragglers(outcomes);

  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kChildren))
      << "fork_join must return one outcome per body, in the order of the bodies";
  for (int i = 0; i < kChildren; ++i) {
    const auto& got = outcomes[i];
    EXPECT_EQ(got.pid, (*order).pid[i].load())
        << "outcome " << i << " should carry the pid of the child that ran body " << i
        << " (the pid fork() returned for it)";
    if (got.exited && got.exit_code == kGaveUp) {
      ADD_FAILURE() << "child " << i << " gave up after 3 s waiting for its siblings to run. "
                    << "Start every child before waiting for any (no waitpid inside the fork "
                       "loop).";
      continue;
    }
    std::string whose;
    for (int j = 0; j < kChildren; ++j) {
      if (j != i && got.exited && got.exit_code == 20 + j) {
        whose = ", which is what child " + std::to_string(j) + " returned";
      }
    }
    EXPECT_TRUE(got.exited && got.exit_code == 20 + i)
        << "child " << i << " returned " << 20 + i << " but outcome " << i << " says it "
        << describe(got) << whose << ". Here the children ended in reverse order (child "
        << kChildren - 1
        << " first, child 0 last). A status from wait() or waitpid(-1, ...) belongs to the child "
           "whose pid the call returned, not to the next outcome in line: wait for each child "
           "by its own pid (waitpid(pid, &status, 0)), or match the returned pid to its outcome.";
  }
}

TEST_F(ForkJoin, ChildrenDoNotRunTheParentsAtexitHandlers) {
  // Registered once per test program; it only counts while this test runs (g_atexit_runs set).
  static std::once_flag registered;
  std::call_once(registered, [] { std::atexit(count_atexit_run); });
  SharedInt runs;  // shared, so a run in any child is counted here
  g_atexit_runs = &*runs;
  Outcomes outcomes = run(Bodies(3, [] { return 0; }),
                          "fork_join() with three children while the parent has an atexit "
                          "handler");
  wait_for_stragglers(outcomes);
  g_atexit_runs = nullptr;

  ASSERT_EQ(outcomes.size(), 3u) << "fork_join must return one outcome per body";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_TRUE(outcomes[i].exited && outcomes[i].exit_code == 0)
        << "child " << i << " returned 0; the outcome says it " << describe(outcomes[i]);
  }
  EXPECT_EQ((*runs).load(), 0)
      << "the parent registered an atexit handler, and it ran " << (*runs).load()
      << " time(s) in the children. A child ended with exit() runs every atexit handler and "
         "static destructor it inherited from the parent (they may delete the parent's temporary "
         "files, send its goodbye message, flush its buffers); calling fflush() first does not "
         "change that. End the child with _exit(), which runs none of them.";
}
