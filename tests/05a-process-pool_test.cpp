// Tests for kata 05a: a ProcessPool of n pre-forked workers runs a task on every input of map()
// in the workers (processes other than the caller), n at a time, and returns the results in
// input order, 1 MiB each way intact; a task's exception and a worker's death fail only their
// input (TaskError, BrokenPoolError) after every other input has run; the dead worker is reaped
// and replaced; close() and join() (or the destructor) end and reap every worker.
//
// The tasks report to the test through memory shared with the workers (testkit::Shared), which
// must exist before the pool forks them. "n at a time" is a testkit::ProcessLatch that n tasks
// must reach together; "in input order" holds input 0's task until input 1's has finished, so
// the replies arrive out of order. Which processes the workers are, and whether they were reaped,
// is read from /proc (testkit::running_children, testkit::ProcessWatch), not from the pool.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "process_pool.hpp"
#include "testkit/children.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"
#include "testkit/text.hpp"
#include "testkit/under_test.hpp"
#include "wire.hpp"

namespace {

using namespace std::chrono_literals;
using Inputs = std::vector<std::string>;
using Results = std::vector<std::string>;

// How long a task waits for another task before it gives up (only a wrong pool makes it wait
// that long), and how long map() may take before the test calls it hung.
constexpr auto kPatience = 3s;
constexpr auto kMapDeadline = 8s;

constexpr const char* kHangCauses =
    "Is the parent waiting for a reply from a worker that is gone, while a copy of that "
    "worker's reply pipe (in the parent or in another worker) keeps end of file away? Or are "
    "the parent and a worker both blocked in write(), each waiting for the other to read "
    "(a pipe holds 64 KiB)?";

// The pool under test, destroyed under a deadline: a destructor that waits for workers that
// never leave becomes a TIMEOUT that says so.
class PoolUnderTest : public testkit::UnderTest<kata::ProcessPool> {
 public:
  PoolUnderTest(std::size_t workers, kata::ProcessPool::Task task)
      : UnderTest({5s, "~ProcessPool()",
                   "Does every worker read end of file on its request pipe, so that it leaves "
                   "its loop, before the destructor waits for it?"},
                  workers, std::move(task)) {}
};

class ProcessPool : public testkit::LeakCheckedTest {};

std::string number(long x) { return wire::encode(x); }
long number_in(const std::string& bytes) { return wire::decode<long>(bytes); }

Inputs numbers(long from, long to) {
  Inputs inputs;
  for (long x = from; x < to; ++x) inputs.push_back(number(x));
  return inputs;
}

// The results of map() read as numbers, for messages and comparisons.
std::vector<long> numbers_in(const Results& results) {
  std::vector<long> values;
  for (const std::string& result : results) values.push_back(number_in(result));
  return values;
}

long square(long x) { return x * x; }
std::string square_task(const std::string& input) { return number(square(number_in(input))); }

std::vector<long> squares(long from, long to) {
  std::vector<long> values;
  for (long x = from; x < to; ++x) values.push_back(square(x));
  return values;
}

// map() with a deadline that turns a hang into a TIMEOUT naming it. An exception is a failure
// that says what arrived; the results are then empty.
Results map(kata::ProcessPool& pool, const Inputs& inputs, const std::string& what) {
  try {
    return testkit::finishes_within(
        kMapDeadline, "map() " + what, [&] { return pool.map(inputs); }, kHangCauses);
  } catch (...) {
    ADD_FAILURE() << "map() " << what << " threw "
                  << testkit::describe_exception(std::current_exception())
                  << " instead of returning a result for each input";
    return {};
  }
}

// map() when it must throw: the exception it threw (null if it returned).
std::exception_ptr map_failure(kata::ProcessPool& pool, const Inputs& inputs,
                               const std::string& what) {
  try {
    testkit::finishes_within(
        kMapDeadline, "map() " + what, [&] { return pool.map(inputs); }, kHangCauses);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

// The workers as the kernel sees them: this process's running children, sorted.
std::vector<pid_t> worker_pids() {
  std::vector<pid_t> pids = testkit::running_children();
  std::sort(pids.begin(), pids.end());
  return pids;
}

// A watch on every worker, to see later whether each has ended and been reaped.
std::vector<std::unique_ptr<testkit::ProcessWatch>> watch_all(const std::vector<pid_t>& pids) {
  std::vector<std::unique_ptr<testkit::ProcessWatch>> watches;
  for (pid_t pid : pids) watches.push_back(std::make_unique<testkit::ProcessWatch>(pid));
  return watches;
}

// "2 zombie(s) and 1 still running" among the watched workers after `when`; "" when all reaped.
std::string not_reaped(const std::vector<std::unique_ptr<testkit::ProcessWatch>>& watches,
                       const std::string& when) {
  int zombies = 0;
  int running = 0;
  for (const auto& watch : watches) {
    if (!watch->ended()) {
      ++running;
    } else if (!watch->reaped()) {
      ++zombies;
    }
  }
  std::string text;
  if (running > 0) {
    text += std::to_string(running) + " of " + std::to_string(watches.size()) +
            " worker(s) were still running " + when +
            ": did they read end of file on their request pipe, and did anyone wait for them "
            "to end? ";
  }
  if (zombies > 0) {
    text += std::to_string(zombies) + " of " + std::to_string(watches.size()) +
            " worker(s) had ended " + when +
            " but were never reaped (zombies): who calls waitpid() for them?";
  }
  return text;
}

// Deterministic bytes of every value, different for each seed.
std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

// "" when equal, else where two byte strings part, for a message (megabytes are not printed).
std::string where_they_differ(const std::string& got, const std::string& expected) {
  if (got == expected) return "";
  const auto parted = std::mismatch(got.begin(), got.end(), expected.begin(), expected.end());
  return "got " + std::to_string(got.size()) + " bytes, expected " +
         std::to_string(expected.size()) + ", the first " +
         std::to_string(parted.first - got.begin()) + " of them right";
}

// First in the file, so its verdict is the learner's first: on the starter it ends in
// milliseconds (the next one waits up to 3 s for a second worker).
TEST_F(ProcessPool, TasksRunInTheWorkersNotInTheCaller) {
  PoolUnderTest pool(3, [](const std::string&) {
    return wire::encode(std::vector<long>{getpid(), getppid()});
  });
  const std::vector<pid_t> workers = worker_pids();
  const Results results = map(*pool, numbers(0, 9), "of 9 inputs on 3 workers");
  ASSERT_EQ(results.size(), 9u) << "map() must return one result per input";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto ids = wire::decode<std::vector<long>>(results[i]);
    ASSERT_EQ(ids.size(), 2u) << "result " << i << " is not what the task returned";
    EXPECT_NE(ids[0], getpid())
        << "input " << i << " ran in the test's own process (pid " << getpid()
        << "): does map() call the task itself instead of sending the input to a worker?";
    EXPECT_TRUE(ids[0] == getpid() ||
                std::find(workers.begin(), workers.end(), ids[0]) != workers.end())
        << "input " << i << " ran in process " << ids[0] << ", which is none of the workers "
        << testkit::to_text(workers) << " the pool had forked when it was made: does map() fork "
        << "a new process for an input instead of feeding the workers it has?";
  }
}

TEST_F(ProcessPool, ResultsComeBackInInputOrder) {
  // Input 0's task waits until input 1's has finished, so input 1's reply comes first.
  struct Finished {
    std::atomic<bool> input[2];
  };
  testkit::Shared<Finished> finished;
  PoolUnderTest pool(2, [&finished](const std::string& input) {
    const long x = number_in(input);
    if (x == 0) testkit::eventually([&] { return finished->input[1].load(); }, kPatience);
    const std::string result = number(square(x));
    if (x < 2) finished->input[x] = true;
    return result;
  });
  const Results results = map(*pool, numbers(0, 12), "of 12 inputs on 2 workers");
  ASSERT_EQ(results.size(), 12u) << "map() must return one result per input";
  EXPECT_EQ(numbers_in(results), squares(0, 12))
      << "map() returned " << testkit::to_text(numbers_in(results)) << " for the inputs 0..11 "
      << "(each task returns its input squared). Input 1's task finished before input 0's: is "
         "each result put where its input was, or where it happened to arrive?";
}

TEST_F(ProcessPool, EveryWorkerRunsATaskAtTheSameTime) {
  constexpr int kWorkers = 3;
  testkit::Shared<testkit::ProcessLatch> all_running(kWorkers);
  PoolUnderTest pool(kWorkers, [&all_running](const std::string&) {
    const bool met = all_running->arrive_and_wait(kPatience);
    return wire::encode(std::vector<long>{getpid(), met ? 1 : 0});
  });
  const Results results = map(*pool, numbers(0, kWorkers), "of 3 inputs on 3 workers");
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kWorkers))
      << "map() must return one result per input";
  std::set<long> processes;
  int met = 0;
  for (const std::string& result : results) {
    const auto values = wire::decode<std::vector<long>>(result);
    processes.insert(values.at(0));
    met += static_cast<int>(values.at(1));
  }
  EXPECT_EQ(met, kWorkers)
      << "the 3 tasks of map() on a pool of 3 workers waited for each other at a latch, and "
      << (met == 0 ? "never met" : "only " + std::to_string(met) + " of them met")
      << " (they ran in " << processes.size()
      << " different process(es)): does map() wait for one input's reply before it sends the "
         "next input, or send every input to the same worker?";
}

TEST_F(ProcessPool, TheWorkersAreForkedOnceAndNeverMoreThanAsked) {
  PoolUnderTest pool(3, [](const std::string&) { return number(getpid()); });
  const std::vector<pid_t> workers = worker_pids();
  EXPECT_EQ(workers.size(), 3u) << "ProcessPool(3, task) left " << workers.size()
                                << " child process(es) running; a pool of 3 has 3 workers";
  const Results results = map(*pool, numbers(0, 30), "of 30 inputs on 3 workers");
  ASSERT_EQ(results.size(), 30u) << "map() must return one result per input";
  std::set<long> strangers;
  for (const std::string& result : results) {
    const long pid = number_in(result);
    if (std::find(workers.begin(), workers.end(), pid) == workers.end()) strangers.insert(pid);
  }
  EXPECT_TRUE(strangers.empty())
      << "inputs ran in " << strangers.size() << " process(es) other than the 3 workers forked "
      << "when the pool was made: does map() fork for its inputs instead of reusing the workers?";
  EXPECT_EQ(worker_pids(), workers)
      << "after map(), the test's running children were " << testkit::to_text(worker_pids())
      << " instead of the pool's 3 workers " << testkit::to_text(workers)
      << ": did map() start processes of its own, or end a worker?";
}

TEST_F(ProcessPool, AMebibyteEachWayArrivesIntact) {
  // Each task returns its input reversed: 1 MiB in, 1 MiB out, 16 times a pipe's capacity.
  constexpr std::size_t kMiB = 1024 * 1024;
  PoolUnderTest pool(
      2, [](const std::string& input) { return std::string(input.rbegin(), input.rend()); });
  Inputs inputs;
  for (unsigned i = 0; i < 4; ++i) inputs.push_back(random_bytes(kMiB, i));
  const Results results = map(*pool, inputs, "of four 1 MiB inputs with 1 MiB results");
  ASSERT_EQ(results.size(), inputs.size()) << "map() must return one result per input";
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string expected(inputs[i].rbegin(), inputs[i].rend());
    EXPECT_EQ(where_they_differ(results[i], expected), "")
        << "result " << i << " (input " << i
        << " reversed) did not arrive intact: does the reader stop before the whole frame has "
           "arrived (a read() may return less than asked)?";
  }
}

TEST_F(ProcessPool, ATaskThatThrowsFailsItsInputWithItsMessage) {
  PoolUnderTest pool(2, [](const std::string& input) {
    const long x = number_in(input);
    if (x == 4) throw std::runtime_error("input 4 is not welcome");
    return number(square(x));
  });
  const std::vector<pid_t> workers = worker_pids();
  const std::exception_ptr failure = map_failure(*pool, numbers(0, 8), "with a task that throws");
  std::string arrived = testkit::describe_exception(failure);
  try {
    if (failure) std::rethrow_exception(failure);
  } catch (const kata::TaskError& error) {
    EXPECT_EQ(error.input(), 4u) << "the task threw for input 4, but the TaskError names input "
                                 << error.input() << ": which input was that worker running?";
    EXPECT_STREQ(error.what(), "input 4 is not welcome")
        << "the TaskError should carry the message of the task's exception";
    arrived.clear();
  } catch (...) {
  }
  EXPECT_EQ(arrived, "") << "the task threw std::runtime_error(\"input 4 is not welcome\") for "
                            "input 4, and map() ended with "
                         << arrived << " instead of a kata::TaskError for input 4";
  EXPECT_EQ(worker_pids(), workers)
      << "a task that throws must not cost its worker: the workers were "
      << testkit::to_text(workers) << " before and " << testkit::to_text(worker_pids()) << " after";
  const Results again = map(*pool, numbers(10, 16), "right after a task threw");
  EXPECT_EQ(numbers_in(again), squares(10, 16))
      << "the map() after the one whose task threw returned the wrong results: did a reply of "
         "the earlier map() stay in a pipe, unread, when it threw?";
}

TEST_F(ProcessPool, AWorkerKilledMidTaskFailsThatInputWithABrokenPoolError) {
  testkit::Shared<std::atomic<pid_t>> killed(0);
  PoolUnderTest pool(2, [&killed](const std::string& input) {
    const long x = number_in(input);
    if (x == 2) {
      *killed = getpid();
      raise(SIGKILL);
    }
    return number(square(x));
  });
  const std::exception_ptr failure =
      map_failure(*pool, numbers(0, 6), "with a worker that is killed (SIGKILL) at input 2");
  ASSERT_NE(killed->load(), 0) << "input 2 never ran";
  std::string arrived = testkit::describe_exception(failure);
  try {
    if (failure) std::rethrow_exception(failure);
  } catch (const kata::BrokenPoolError& error) {
    EXPECT_EQ(error.input(), 2u) << "the worker died at input 2, but the BrokenPoolError names "
                                 << "input " << error.input()
                                 << ": which input was that worker running when it died?";
    EXPECT_EQ(error.worker(), killed->load())
        << "the BrokenPoolError names worker " << error.worker() << ", but worker "
        << killed->load() << " is the one that died";
    EXPECT_EQ(error.signal(), SIGKILL)
        << "the worker was killed by signal 9 (SIGKILL), and the BrokenPoolError says signal "
        << error.signal() << " (exit code " << error.exit_code()
        << "): where does the pool learn how the worker ended?";
    arrived.clear();
  } catch (...) {
  }
  EXPECT_EQ(arrived, "") << "a worker was killed by SIGKILL while it ran input 2, and map() "
                            "ended with "
                         << arrived << " instead of a kata::BrokenPoolError for input 2";
}

TEST_F(ProcessPool, WhenAWorkerDiesTheOtherInputsStillRunOnce) {
  // Input 0 kills its worker; input 1 (on the other worker) finishes only once that worker is
  // dead, so the pool sees the death while input 1 is still running and inputs 2..5 wait.
  constexpr int kInputs = 6;
  struct Runs {
    std::atomic<pid_t> killed;
    std::atomic<int> of_input[kInputs];
  };
  testkit::Shared<Runs> runs;
  PoolUnderTest pool(2, [&runs](const std::string& input) {
    const long x = number_in(input);
    ++runs->of_input[x];
    if (x == 0) {
      runs->killed = getpid();
      raise(SIGKILL);
    }
    if (x == 1) {
      testkit::eventually([&] { return runs->killed.load() != 0; }, kPatience);
      testkit::ProcessWatch dying(runs->killed.load());
      testkit::eventually([&] { return !dying.found() || dying.ended(); }, kPatience);
    }
    return number(square(x));
  });
  const std::exception_ptr failure =
      map_failure(*pool, numbers(0, kInputs), "with a worker that is killed at input 0");
  EXPECT_NE(failure, nullptr) << "map() returned normally although input 0 killed its worker";
  std::vector<int> counts;
  for (const auto& count : runs->of_input) counts.push_back(count.load());
  EXPECT_EQ(counts, std::vector<int>(kInputs, 1))
      << "inputs 0.." << kInputs - 1 << " ran " << testkit::to_text(counts)
      << " times when map() ended (input 0 killed its worker): does map() give up on the other "
         "inputs as soon as it sees a dead worker, or send an input again?";
  const Results again = map(*pool, numbers(10, 16), "right after a worker died");
  EXPECT_EQ(numbers_in(again), squares(10, 16))
      << "the map() after the one in which a worker died returned "
      << testkit::to_text(numbers_in(again)) << " for the inputs 10..15 (squared): did a reply "
      << "of the earlier map() stay in a pipe, unread?";
}

TEST_F(ProcessPool, ADeadWorkerIsReapedAndReplaced) {
  testkit::Shared<std::atomic<pid_t>> killed(0);
  testkit::Shared<testkit::ProcessLatch> both_running(2);
  PoolUnderTest pool(2, [&killed, &both_running](const std::string& input) {
    const long x = number_in(input);
    if (x == 1) {
      *killed = getpid();
      raise(SIGKILL);
    }
    if (x == 100) return number(both_running->arrive_and_wait(kPatience) ? 1 : 0);
    return number(square(x));
  });
  const std::vector<pid_t> workers = worker_pids();
  const auto watches = watch_all(workers);
  map_failure(*pool, numbers(0, 4), "with a worker that is killed at input 1");
  ASSERT_NE(killed->load(), 0) << "input 1 never ran";
  const auto dead = std::find(workers.begin(), workers.end(), killed->load());
  ASSERT_NE(dead, workers.end()) << "input 1 ran in process " << killed->load()
                                 << ", none of the pool's workers " << testkit::to_text(workers);
  const auto& watch = *watches[static_cast<std::size_t>(dead - workers.begin())];
  EXPECT_TRUE(watch.reaped()) << "when map() ended, worker " << killed->load()
                              << ", killed at input 1, was a zombie: who waits for it?";
  const std::vector<pid_t> now = worker_pids();
  EXPECT_EQ(now.size(), 2u) << "after one of its 2 workers died, the pool has " << now.size()
                            << " running worker process(es) " << testkit::to_text(now)
                            << ": is a dead worker replaced by exactly one new one?";
  const Results met = map(*pool, {number(100), number(100)}, "after a worker was replaced");
  EXPECT_EQ(numbers_in(met), (std::vector<long>{1, 1}))
      << "after a worker died and was replaced, the 2 tasks of map() on the 2 workers never "
         "ran at the same time: does the replacement get inputs?";
}

TEST_F(ProcessPool, EachWorkerHoldsOnlyItsOwnTwoPipeEnds) {
  // Every worker, the replacement of a dead one included, counts the pipe ends it holds (pipes
  // the test had open before the pool are left out).
  std::set<unsigned long> pipes_before;
  for (const auto& end : testkit::open_pipe_ends()) pipes_before.insert(end.pipe);
  testkit::Shared<testkit::ProcessLatch> both_running(2);
  PoolUnderTest pool(2, [&](const std::string& input) {
    if (number_in(input) == 0) raise(SIGKILL);
    both_running->arrive_and_wait(kPatience);
    long reads = 0;
    long writes = 0;
    std::set<unsigned long> pipes;
    for (const auto& end : testkit::open_pipe_ends()) {
      if (pipes_before.count(end.pipe) != 0) continue;
      ++(end.read_end ? reads : writes);
      pipes.insert(end.pipe);
    }
    return wire::encode(
        std::vector<long>{getpid(), reads, writes, static_cast<long>(pipes.size())});
  });
  map_failure(*pool, {number(0)}, "with a worker that is killed at input 0");
  const Results results = map(*pool, {number(1), number(1)}, "after a worker was replaced");
  ASSERT_EQ(results.size(), 2u) << "map() must return one result per input";
  for (const std::string& result : results) {
    const auto held = wire::decode<std::vector<long>>(result);
    ASSERT_EQ(held.size(), 4u);
    EXPECT_TRUE(held[1] == 1 && held[2] == 1 && held[3] == 2)
        << "worker " << held[0] << " held " << held[1] << " read end(s) and " << held[2]
        << " write end(s) of " << held[3] << " pipe(s) while its task ran; it needs the read "
        << "end of its request pipe and the write end of its reply pipe. While it holds a "
        << "copy of another worker's request pipe, that worker cannot read end of file after "
           "close(): which pipe ends does a worker forked after the others inherit?";
  }
}

TEST_F(ProcessPool, CloseThenJoinEndsAndReapsEveryWorker) {
  PoolUnderTest pool(3, square_task);
  const auto watches = watch_all(worker_pids());
  ASSERT_EQ(watches.size(), 3u) << "ProcessPool(3, task) should have forked 3 workers";
  EXPECT_EQ(numbers_in(map(*pool, numbers(0, 6), "of 6 inputs on 3 workers")), squares(0, 6));
  pool->close();
  testkit::finishes_within(
      5s, "join() after close()", [&] { pool->join(); },
      "Does every worker read end of file on its request pipe (is every copy of its write end "
      "closed?) before join() waits for it?");
  EXPECT_EQ(not_reaped(watches, "when join() returned"), "");
}

TEST_F(ProcessPool, TheDestructorEndsAndReapsEveryWorker) {
  PoolUnderTest pool(3, square_task);
  const auto watches = watch_all(worker_pids());
  ASSERT_EQ(watches.size(), 3u) << "ProcessPool(3, task) should have forked 3 workers";
  EXPECT_EQ(numbers_in(map(*pool, numbers(0, 6), "of 6 inputs on 3 workers")), squares(0, 6));
  pool.destroy();
  EXPECT_EQ(not_reaped(watches, "when ~ProcessPool() returned"), "");
}

TEST_F(ProcessPool, MapAfterCloseThrowsLogicError) {
  PoolUnderTest pool(2, square_task);
  pool->close();
  const std::exception_ptr failure = map_failure(*pool, numbers(0, 3), "on a closed pool");
  bool logic_error = false;
  try {
    if (failure) std::rethrow_exception(failure);
  } catch (const std::logic_error&) {
    logic_error = true;
  } catch (...) {
  }
  EXPECT_TRUE(logic_error) << "map() on a closed pool ended with "
                           << testkit::describe_exception(failure)
                           << " instead of a std::logic_error (Python: \"Pool not running\"): "
                              "does map() look whether the pool is closed?";
}

TEST_F(ProcessPool, AFailedForkReachesTheCallerAndLeavesNothingBehind) {
  // The third fork() fails with EAGAIN, as when the grader's process limit is reached.
  const int descriptors_before = testkit::open_descriptor_count();
  const std::string not_reported = testkit::failed_fork_not_reported(
      2, "ProcessPool(4, task)", [] { kata::ProcessPool pool(4, square_task); });
  EXPECT_EQ(not_reported, "");
  EXPECT_TRUE(testkit::no_leftover_children(0ms))
      << "after fork() failed for worker 2, ProcessPool(4, task) threw, but the 2 workers it "
         "had already started were left behind: who ends and reaps them?";
  EXPECT_EQ(testkit::open_descriptor_count(), descriptors_before)
      << "after fork() failed, the pool had thrown holding "
      << testkit::open_descriptor_count() - descriptors_before
      << " more file descriptors than before: which pipe ends were never closed?";
}

}  // namespace
