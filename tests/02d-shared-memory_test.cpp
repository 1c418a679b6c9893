// Tests for kata 02d: a counter in memory shared by a parent and its children.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shared_counter.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"

namespace {

using namespace std::chrono_literals;

// Runs in a child first thing: if the test process dies, the kernel kills this child too.
void die_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(99);
}

// Forks one child per body (each body's value is the exit code) and waits for all of them.
// Returns the exit codes; a child killed by a signal gives 128 + signal, like a shell.
std::vector<int> fork_and_wait(const std::vector<std::function<int()>>& bodies) {
  const pid_t parent = getpid();
  std::vector<pid_t> pids;
  for (const auto& body : bodies) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      die_with_parent(parent);
      _exit(body());
    }
    pids.push_back(pid);
  }
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return codes;
}

// What makes counting in shared memory hang (instead of miscount).
const char* const kHangHint =
    "A process is waiting for a wake-up that never comes. A std::mutex (or a pthread mutex "
    "initialised without PTHREAD_PROCESS_SHARED) placed in shared memory still keeps two "
    "processes out of each other's way, but its unlock wakes waiters only in the process that "
    "unlocks: a waiter in another process sleeps forever. Use a lock-free std::atomic<long> and "
    "fetch_add (or a pthread mutex made with "
    "pthread_mutexattr_setpshared(PTHREAD_PROCESS_SHARED)).";

// How many memory mappings this process has (one line each in /proc/self/maps).
int mapping_count() {
  std::ifstream maps("/proc/self/maps");
  int lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

// The test's own rendezvous in shared memory: lets children start adding at the same moment.
class StartLine {
 public:
  StartLine() {
    void* memory = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap failed");
    ready_ = new (memory) std::atomic<int>(0);
  }
  ~StartLine() { munmap(ready_, sizeof(std::atomic<int>)); }
  StartLine(const StartLine&) = delete;
  StartLine& operator=(const StartLine&) = delete;

  // Called by each of `parties` children; returns once all are here (or after 2 s).
  void arrive_and_wait(int parties) {
    ready_->fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    while (ready_->load() < parties && std::chrono::steady_clock::now() < give_up) {
    }
  }

 private:
  std::atomic<int>* ready_;
};

}  // namespace

class SharedMemory : public testkit::LeakCheckedTest {};

TEST_F(SharedMemory, StartsAtZeroAndCountsInTheParent) {
  kata::SharedCounter counter;
  EXPECT_EQ(counter.value(), 0) << "a new counter starts at 0";
  counter.add(3);
  counter.add(4);
  EXPECT_EQ(counter.value(), 7) << "add(3) then add(4) in the same process should give 7";
}

TEST_F(SharedMemory, TheParentSeesWhatAChildAdded) {
  kata::SharedCounter counter;
  std::vector<int> codes = testkit::finishes_within(
      5s, "a child adding 5 to the counter",
      [&] {
        return fork_and_wait({[&counter] {
          counter.add(5);
          return 0;
        }});
      },
      kHangHint);
  ASSERT_EQ(codes, std::vector<int>{0}) << "the child that called add(5) did not end normally";
  EXPECT_EQ(counter.value(), 5)
      << "a child called add(5), but the parent sees " << counter.value()
      << ". fork() gave the child its own copy of the parent's memory, and it added to that "
         "copy. Keep the count in memory mapped with mmap(MAP_SHARED | MAP_ANONYMOUS), created "
         "before the fork: that page is shared, not copied.";
}

TEST_F(SharedMemory, AChildSeesWhatTheParentAdded) {
  kata::SharedCounter counter;
  counter.add(3);
  std::vector<int> codes = testkit::finishes_within(
      5s, "a child reading the counter",
      [&] {
        return fork_and_wait({[&counter] {
          // The child reports the value it sees as its exit code.
          return static_cast<int>(counter.value());
        }});
      },
      kHangHint);
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0], 3) << "the parent added 3 before forking; the child should see 3";
}

TEST_F(SharedMemory, CountInProcessesIsExact) {
  constexpr int kProcesses = 4;
  constexpr long kIncrements = 100000;
  long total = testkit::finishes_within(
      5s, "count_in_processes(4, 100000)",
      [] { return kata::count_in_processes(kProcesses, kIncrements); }, kHangHint);
  EXPECT_EQ(total, kProcesses * kIncrements)
      << kProcesses << " processes added 1 each " << kIncrements << " times, but the parent sees "
      << total
      << (total == 0
              ? ". Each child added to its own private copy of the counter: put the count in "
                "memory shared with mmap(MAP_SHARED | MAP_ANONYMOUS) before forking."
              : ". Some additions were lost: two processes read the same old value and both "
                "wrote old + 1. Make the shared count a std::atomic<long> and use fetch_add.");
}

TEST_F(SharedMemory, NoAdditionIsLostWhenProcessesAddTogether) {
  constexpr int kProcesses = 4;
  constexpr long kIncrements = 1000000;
  kata::SharedCounter counter;
  StartLine start;
  std::vector<std::function<int()>> bodies(kProcesses, [&] {
    start.arrive_and_wait(kProcesses);  // all children add at the same time
    for (long i = 0; i < kIncrements; ++i) {
      counter.add(1);
      // Keeps the compiler from merging the loop into one big add: every add() really
      // happens, one at a time, as it would in real work.
      asm volatile("" ::: "memory");
    }
    return 0;
  });
  std::vector<int> codes = testkit::finishes_within(
      8s, "four children adding 1 to the counter a million times each",
      [&] { return fork_and_wait(bodies); }, kHangHint);
  ASSERT_EQ(codes, std::vector<int>(kProcesses, 0)) << "a child did not end normally";
  const long expected = kProcesses * kIncrements;
  const long total = counter.value();
  EXPECT_EQ(total, expected)
      << (total == 0
              ? "the parent sees 0: each child added to its own private copy of the counter. "
                "Put the count in memory shared with mmap(MAP_SHARED | MAP_ANONYMOUS)."
              : "lost " + std::to_string(expected - total) + " of " + std::to_string(expected) +
                    " additions: `count += n` on a plain long is read, add, write; two processes "
                    "read the same old value and both write old + n. Make the shared count a "
                    "lock-free std::atomic<long> and add with fetch_add.");
}

TEST_F(SharedMemory, EachCounterIsItsOwn) {
  kata::SharedCounter apples;
  kata::SharedCounter pears;
  apples.add(2);
  pears.add(10);
  EXPECT_EQ(apples.value(), 2) << "two counters must not share their count";
  EXPECT_EQ(pears.value(), 10) << "two counters must not share their count";
}

TEST_F(SharedMemory, DestroyingACounterReleasesItsMemory) {
  const int before = mapping_count();
  for (int i = 0; i < 200; ++i) {
    kata::SharedCounter counter;
    counter.add(1);
  }
  const int after = mapping_count();
  EXPECT_LT(after - before, 50)
      << "after creating and destroying 200 counters this process has " << (after - before)
      << " more memory mappings: give back what the constructor mapped with munmap() in the "
         "destructor";
}
