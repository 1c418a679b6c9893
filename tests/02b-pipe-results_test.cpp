// Tests for kata 02b: run_and_collect() brings each child's bytes (up to megabytes) back through
// a pipe of its own, intact and in the order of the bodies, with how each child ended; it leaves
// no descriptor and no zombie behind, and every child holds only the pipe end it writes to.
//
// Every child dies with the test (testkit::each_dies_with_parent), so a starter that hangs
// leaves no process behind. A child reports the pipe ends it holds through testkit::Shared.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipe_results.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<std::string()>>;
using Results = std::vector<kata::ChildResult>;

constexpr std::size_t kMiB = 1024 * 1024;

// run_and_collect with a deadline that turns a deadlock into a clear TIMEOUT message. Every
// child dies with the test, so a hang leaves no process behind.
Results run(const Bodies& bodies, const std::string& what) {
  return testkit::finishes_within(
      5s, "run_and_collect() " + what,
      [&] { return kata::run_and_collect(testkit::each_dies_with_parent(bodies)); },
      "A pipe program that hangs waits for something that never happens. Is a read() waiting "
      "for end of file while some process (the parent itself, or a later child) still holds a "
      "write end of that pipe? Or is a waitpid() waiting for a child that is stuck in write() "
      "because its pipe (64 KiB) is full and nobody reads it yet?");
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

class PipeResults : public testkit::LeakCheckedTest {};

TEST_F(PipeResults, ASmallResultArrives) {
  Results results = run({[] { return std::string("hello from the child"); }},
                        "with one child that sends 20 bytes");
  ASSERT_EQ(results.size(), 1u) << "run_and_collect must return one result per body";
  EXPECT_EQ(results[0].output, "hello from the child");
  EXPECT_TRUE(results[0].exited && results[0].exit_code == 0)
      << "the child sent its result and ended normally; the result says it "
      << testkit::describe(results[0]);
}

TEST_F(PipeResults, OneMebibytePerChildArrivesIntact) {
  constexpr int kChildren = 3;
  Bodies bodies;
  for (int i = 0; i < kChildren; ++i) {
    bodies.push_back([i] { return pattern(kMiB, static_cast<unsigned>(i)); });
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
        << testkit::describe(results[i]);
  }
}

TEST_F(PipeResults, ResultsOfEverySizeArriveInOrder) {
  // Around the pipe's capacity (64 KiB on Linux) on purpose.
  const std::vector<std::size_t> sizes = {0, 1, 4096, 65535, 65536, 65537, 300000};
  Bodies bodies;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    bodies.push_back(
        [i, size = sizes[i]] { return pattern(size, static_cast<unsigned>(100 + i)); });
  }
  Results results = run(bodies, "with seven children sending 0 B to 300 KB");
  ASSERT_EQ(results.size(), sizes.size()) << "run_and_collect must return one result per body";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_TRUE(same_bytes(results[i].output, pattern(sizes[i], static_cast<unsigned>(100 + i))))
        << "result " << i << " should hold the " << sizes[i] << " bytes child " << i << " sent";
  }
}

TEST_F(PipeResults, AChildThatCrashesStillEndsTheRead) {
  Results results = run({[]() -> std::string {
                           rlimit no_core{0, 0};  // no core file from the abort below
                           setrlimit(RLIMIT_CORE, &no_core);
                           std::abort();
                         },
                         []() -> std::string { throw std::runtime_error("the body failed"); },
                         [] { return std::string("still here"); }},
                        "with a child that aborts, one that throws and one that answers");
  ASSERT_EQ(results.size(), 3u) << "run_and_collect must return one result per body";
  EXPECT_TRUE(!results[0].exited && results[0].signal == SIGABRT)
      << "child 0 called abort(): it should be reported as killed by SIGABRT; it "
      << testkit::describe(results[0]);
  EXPECT_EQ(results[0].output, "") << "child 0 crashed before sending anything";
  EXPECT_TRUE(results[1].exited && results[1].exit_code == 1)
      << "child 1's body threw: it should exit with code 1; it " << testkit::describe(results[1]);
  EXPECT_EQ(results[2].output, "still here") << "child 2's result must not be affected";
}

TEST_F(PipeResults, NoFileDescriptorIsLeft) {
  const int before = testkit::open_descriptor_count();
  Results results =
      run(Bodies(4, [] { return std::string("x"); }), "with four children that send 1 byte each");
  const int after = testkit::open_descriptor_count();
  ASSERT_EQ(results.size(), 4u) << "run_and_collect must return one result per body";
  EXPECT_EQ(after, before)
      << "the parent had " << before << " open file descriptors before and " << after
      << " after run_and_collect(). Every pipe() makes two: which of them does the parent still "
         "hold when it returns?";
}

TEST_F(PipeResults, LeavesNoZombiesBehind) {
  Results results =
      run(Bodies(4, [] { return pattern(100000, 7); }), "with four children that send 100 KB each");
  ASSERT_EQ(results.size(), 4u) << "run_and_collect must return one result per body";
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "run_and_collect() returned while some of its children were still around: was every "
         "child waited for once its result had been read?";
}

TEST_F(PipeResults, EachChildHoldsOnlyTheWriteEndOfItsOwnPipe) {
  // Each child, while its body runs, counts the pipe ends it holds (leaving out pipes the test
  // had open before). A read end held by a child is harmless for the results, so only looking
  // shows it: it keeps its pipe "being read" although nobody will, and a parent that gives up
  // on a child and closes its own read end then leaves that writer blocked instead of failed.
  constexpr int kChildren = 4;
  struct Held {
    std::atomic<int> own_read_end[kChildren];  // the read end of the pipe it writes to
    std::atomic<int> other_read_ends[kChildren];
    std::atomic<int> write_ends[kChildren];
    std::atomic<bool> looked[kChildren];
  };
  testkit::Shared<Held> held;
  std::set<unsigned long> pipes_before;
  for (const auto& end : testkit::open_pipe_ends()) pipes_before.insert(end.pipe);
  Bodies bodies;
  for (int i = 0; i < kChildren; ++i) {
    bodies.push_back([&held, &pipes_before, i] {
      std::vector<testkit::PipeEnd> ends;
      for (const auto& end : testkit::open_pipe_ends()) {
        if (pipes_before.count(end.pipe) == 0) ends.push_back(end);
      }
      std::set<unsigned long> written;
      for (const auto& end : ends) {
        if (!end.read_end) written.insert(end.pipe);
      }
      for (const auto& end : ends) {
        if (!end.read_end) {
          ++held->write_ends[i];
        } else if (written.count(end.pipe) != 0) {
          ++held->own_read_end[i];
        } else {
          ++held->other_read_ends[i];
        }
      }
      held->looked[i] = true;
      return std::string("looked");
    });
  }
  Results results = run(bodies, "with four children that look at the pipe ends they hold");
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kChildren))
      << "run_and_collect must return one result per body";
  for (int i = 0; i < kChildren; ++i) {
    ASSERT_TRUE(held->looked[i]) << "the body of child " << i << " never ran";
    EXPECT_EQ(held->own_read_end[i], 0)
        << "while its body ran, child " << i
        << " still held the read end of its own pipe. The child only writes: which ends of the "
           "pipe does it need after fork()?";
    EXPECT_EQ(held->other_read_ends[i], 0)
        << "while its body ran, child " << i << " held " << held->other_read_ends[i]
        << " read end(s) of its earlier siblings' pipes, inherited from the parent at fork(). "
           "Each one keeps a sibling's pipe \"being read\" for as long as child "
        << i << " lives: which pipe ends does a child need?";
    EXPECT_EQ(held->write_ends[i], 1)
        << "while its body ran, child " << i << " held " << held->write_ends[i]
        << " pipe write end(s); it needs only the one it writes its result to. A write end "
           "held by anyone else keeps end of file away from that pipe's reader.";
  }
}

TEST_F(PipeResults, AFailedForkReachesTheCallerAndLeavesNothingBehind) {
  // The third fork() fails with EAGAIN, as when the system has no process left to give.
  constexpr int kForked = 2;
  const int descriptors_before = testkit::open_descriptor_count();
  const std::string not_reported =
      testkit::failed_fork_not_reported(kForked, "run_and_collect()", [&] {
        run(Bodies(4, [] { return pattern(100000, 3); }),
            "with four children that send 100 KB each, when the third fork() fails");
      });
  EXPECT_TRUE(not_reported.empty()) << not_reported;
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "after fork() failed for child " << kForked << ", run_and_collect() ended, but the "
      << kForked << " children it had already started were left behind. Who reaps them now?";
  EXPECT_EQ(testkit::open_descriptor_count(), descriptors_before)
      << "after fork() failed, run_and_collect() ended holding "
      << testkit::open_descriptor_count() - descriptors_before
      << " more file descriptors than before: which pipe ends were never closed?";
}

}  // namespace
