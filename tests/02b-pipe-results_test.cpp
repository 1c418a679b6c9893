// Tests for kata 02b: bring large results back from children through pipes.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipe_results.hpp"
#include "testkit/deadline.hpp"
#include "testkit/leak_checked_test.hpp"

namespace {

using Bodies = std::vector<std::function<std::string()>>;
using Results = std::vector<kata::ChildResult>;

constexpr std::size_t kMiB = 1024 * 1024;

// Runs in a child first thing: if the test process dies (say, after a TIMEOUT), the kernel kills
// this child too, so a hung starter never leaves processes behind.
void die_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(99);  // the parent was already gone
}

// run_and_collect with a deadline that turns a deadlock into a clear TIMEOUT message.
Results run(const Bodies& bodies, const std::string& what) {
  return testkit::finishes_within(
      std::chrono::seconds(5), "run_and_collect() " + what,
      [&] { return kata::run_and_collect(bodies); },
      "A pipe program that hangs is waiting for something that never happens: either a read() "
      "waiting for end of file while some process still holds a write end of that pipe (close "
      "the ends you do not use, in parent and child, right after fork), or a waitpid() on a "
      "child that is stuck in write() because its pipe (64 KiB) is full and nobody reads it "
      "(read everything first, then wait).");
}

// Deterministic bytes of every value 0..255 (including '\0'), different for each seed.
std::string pattern(std::size_t size, unsigned seed) {
  std::string bytes(size, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (auto& b : bytes) {
    x = x * 1103515245u + 12345u;
    b = static_cast<char>(x >> 23);
  }
  return bytes;
}

// Compares large byte strings without printing megabytes: says where they first differ.
testing::AssertionResult same_bytes(const std::string& got, const std::string& expected) {
  if (got == expected) return testing::AssertionSuccess();
  std::size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  auto failure = testing::AssertionFailure();
  failure << "got " << got.size() << " bytes, expected " << expected.size() << "; ";
  if (at == got.size() && got.size() < expected.size()) {
    failure << "the first " << at << " bytes are right, the rest is missing";
  } else {
    failure << "they differ from byte " << at << " on";
  }
  return failure;
}

std::string describe(const kata::ChildResult& r) {
  if (r.exited) return "exited with code " + std::to_string(r.exit_code);
  if (r.signal != 0) {
    return "killed by signal " + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")";
  }
  return "never waited for (exited=false, signal=0)";
}

int open_file_descriptors() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

class PipeResults : public testkit::LeakCheckedTest {
 protected:
  const pid_t parent_ = getpid();
};

TEST_F(PipeResults, ASmallResultArrives) {
  const pid_t parent = parent_;
  Results results = run({[parent] {
                          die_with_parent(parent);
                          return std::string("hello from the child");
                        }},
                        "with one child that sends 20 bytes");
  ASSERT_EQ(results.size(), 1u) << "run_and_collect must return one result per body";
  EXPECT_EQ(results[0].output, "hello from the child");
  EXPECT_TRUE(results[0].exited && results[0].exit_code == 0)
      << "the child sent its result and ended normally; the result says: " << describe(results[0]);
}

TEST_F(PipeResults, OneMebibytePerChildArrivesIntact) {
  const pid_t parent = parent_;
  constexpr int kChildren = 3;
  Bodies bodies;
  for (int i = 0; i < kChildren; ++i) {
    bodies.push_back([parent, i] {
      die_with_parent(parent);
      return pattern(kMiB, static_cast<unsigned>(i));
    });
  }
  Results results = run(bodies, "with three children that send 1 MiB each");
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kChildren))
      << "run_and_collect must return one result per body";
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_TRUE(same_bytes(results[i].output, pattern(kMiB, static_cast<unsigned>(i))))
        << "child " << i << "'s 1 MiB result did not arrive intact in result " << i
        << " (results must be in the order of the bodies)";
    EXPECT_TRUE(results[i].exited && results[i].exit_code == 0)
        << "child " << i << " should have sent everything and exited with 0; it "
        << describe(results[i]);
  }
}

TEST_F(PipeResults, ResultsOfEverySizeArriveInOrder) {
  const pid_t parent = parent_;
  // Around the pipe's capacity (64 KiB on Linux) on purpose.
  const std::vector<std::size_t> sizes = {0, 1, 4096, 65535, 65536, 65537, 300000};
  Bodies bodies;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bodies.push_back([parent, i, size = sizes[i]] {
      die_with_parent(parent);
      return pattern(size, static_cast<unsigned>(100 + i));
    });
  }
  Results results = run(bodies, "with seven children sending 0 B to 300 KB");
  ASSERT_EQ(results.size(), sizes.size()) << "run_and_collect must return one result per body";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_TRUE(same_bytes(results[i].output, pattern(sizes[i], static_cast<unsigned>(100 + i))))
        << "result " << i << " should hold the " << sizes[i] << " bytes child " << i << " sent";
  }
}

TEST_F(PipeResults, AChildThatCrashesStillEndsTheRead) {
  const pid_t parent = parent_;
  Results results = run({[parent]() -> std::string {
                           die_with_parent(parent);
                           rlimit no_core{0, 0};  // no core file from the abort below
                           setrlimit(RLIMIT_CORE, &no_core);
                           std::abort();
                         },
                         [parent]() -> std::string {
                           die_with_parent(parent);
                           throw std::runtime_error("the body failed");
                         },
                         [parent] {
                           die_with_parent(parent);
                           return std::string("still here");
                         }},
                        "with a child that aborts, one that throws and one that answers");
  ASSERT_EQ(results.size(), 3u) << "run_and_collect must return one result per body";
  EXPECT_TRUE(!results[0].exited && results[0].signal == SIGABRT)
      << "child 0 called abort(): it should be reported as killed by SIGABRT; it "
      << describe(results[0]);
  EXPECT_EQ(results[0].output, "") << "child 0 crashed before sending anything";
  EXPECT_TRUE(results[1].exited && results[1].exit_code == 1)
      << "child 1's body threw: it should exit with code 1; it " << describe(results[1]);
  EXPECT_EQ(results[2].output, "still here") << "child 2's result must not be affected";
}

TEST_F(PipeResults, NoFileDescriptorIsLeft) {
  const pid_t parent = parent_;
  const int before = open_file_descriptors();
  Results results = run(Bodies(4,
                               [parent] {
                                 die_with_parent(parent);
                                 return std::string("x");
                               }),
                        "with four children that send 1 byte each");
  const int after = open_file_descriptors();
  ASSERT_EQ(results.size(), 4u) << "run_and_collect must return one result per body";
  EXPECT_EQ(after, before)
      << "the parent had " << before << " open file descriptors before and " << after
      << " after run_and_collect(): every pipe() makes two, and the parent must close both of "
         "each (the write end right after fork, the read end after reading it)";
}

TEST_F(PipeResults, LeavesNoZombiesBehind) {
  const pid_t parent = parent_;
  Results results = run(Bodies(4,
                               [parent] {
                                 die_with_parent(parent);
                                 return pattern(100000, 7);
                               }),
                        "with four children that send 100 KB each");
  ASSERT_EQ(results.size(), 4u) << "run_and_collect must return one result per body";
  EXPECT_TRUE(testkit::no_leftover_children(std::chrono::milliseconds(0)))
      << "run_and_collect() returned while some of its children were still around: after "
         "reading a child's result to the end, wait for it with waitpid()";
}
