// Tests for kata 07c: run_limited() runs its jobs in a task_arena of max_workers threads, so at
// most (and at best) max_workers run at once; count_words() counts exactly while lines are split
// at the same time; sum_of() makes its calls of f at the same time (std::execution::par).
//
// oneTBB is pinned to 4 threads (testkit::OneTbbTest), and the calls are made from inside an
// arena of 4, a caller with more threads than max_workers, on any machine. Inside a job,
// tbb::this_task_arena::max_concurrency() says how many threads the job's arena has: 4 when the
// loop runs in the caller's arena, whatever the timing. An in-flight probe counts the jobs that
// run at once; each job waits (bounded) until as many have been in flight together as its arena
// has threads, so both a bound that is right and one that is missing show in the count. Running at
// the same time is proven with a timed barrier that the first and the last line (or element) must
// reach together.
#include <gtest/gtest.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "arena_and_containers.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/onetbb.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

class ArenaAndContainers : public testkit::OneTbbTest {
 protected:
  ArenaAndContainers() : OneTbbTest(kCallerThreads) {}
  static constexpr int kCallerThreads = 4;
};

const std::string kHangHint =
    "the call does not return: does a job, a line or a call of f wait for something that never "
    "comes, or did a shared std::map get corrupted by two threads writing at once?";

// Runs fn in an arena of 4 threads (a caller with more threads than the kata may use), under a
// deadline.
void from_an_arena_of_4(const std::string& what, const std::function<void()>& fn) {
  testkit::finishes_within(
      10s, what,
      [&] {
        tbb::task_arena caller(4);
        caller.execute(fn);
      },
      kHangHint);
}

void keep_max(std::atomic<int>& most, int value) {
  int seen = most.load();
  while (value > seen && !most.compare_exchange_weak(seen, value)) {
  }
}

TEST_F(ArenaAndContainers, JobsRunInAnArenaOfMaxWorkersThreads) {
  std::vector<std::atomic<int>> runs(8);
  std::atomic<int> widest_arena{0};
  from_an_arena_of_4("run_limited(8 jobs, max_workers 2)", [&] {
    kata::run_limited(8, 2, [&](std::size_t i) {
      keep_max(widest_arena, tbb::this_task_arena::max_concurrency());
      runs.at(i).fetch_add(1);
    });
  });
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ASSERT_EQ(runs[i].load(), 1) << "job " << i << " ran " << runs[i].load()
                                 << " times: every job must run exactly once";
  }
  EXPECT_EQ(widest_arena.load(), 2)
      << "with max_workers 2, jobs ran in an arena of " << widest_arena.load()
      << " threads (tbb::this_task_arena::max_concurrency()), the caller's: does run_limited run "
         "its loop in the arena it was called from, instead of in a tbb::task_arena of its own?";
}

// The most jobs that ran at once, of 12, with max_workers. Each job waits (up to 2 s) until as
// many jobs have been in flight together as its arena has threads: then a loop in an arena of
// max_workers has shown that it reaches max_workers, and a loop in the caller's arena of 4 that
// it goes past it, whatever the timing.
int most_jobs_at_once(int max_workers) {
  testkit::InflightProbe probe;
  from_an_arena_of_4("run_limited(12 jobs, max_workers " + std::to_string(max_workers) + ")", [&] {
    kata::run_limited(12, max_workers, [&](std::size_t) {
      const auto in = probe.enter();
      const int arena_threads = tbb::this_task_arena::max_concurrency();
      testkit::eventually([&] { return probe.max_in_flight() >= arena_threads; }, 2000ms);
    });
  });
  return probe.max_in_flight();
}

TEST_F(ArenaAndContainers, AtMostMaxWorkersJobsRunAtOnceAndThatManyDo) {
  for (const int max_workers : {1, 2, 3}) {
    const int most = most_jobs_at_once(max_workers);
    EXPECT_EQ(most, max_workers) << "with max_workers " << max_workers << ", up to " << most
                                 << " jobs ran at once: "
                                 << (most > max_workers
                                         ? "is the loop bounded by an arena of max_workers threads?"
                                         : "is the arena smaller than max_workers?");
  }
}

// Lines of words from a small vocabulary, so that many threads add to the same words.
std::vector<std::string> some_lines(std::size_t count) {
  static const char* const kWords[] = {"spam", "eggs", "ham",  "bacon", "beans", "toast", "tea",
                                       "jam",  "brie", "kale", "corn",  "rice",  "soup",  "fig"};
  std::vector<std::string> lines;
  for (std::size_t line = 0; line < count; ++line) {
    std::string text;
    for (std::size_t word = 0; word < 8; ++word) {
      text += kWords[(line * 7 + word * word * 3 + line / 5) % std::size(kWords)];
      text += ' ';
    }
    lines.push_back(text);
  }
  return lines;
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

TEST_F(ArenaAndContainers, CountsEveryWordExactly) {
  const std::vector<std::string> lines = some_lines(20'000);
  std::map<std::string, long> expected;
  for (const std::string& line : lines) {
    for (const std::string& word : split_words(line)) ++expected[word];
  }
  std::map<std::string, long> counts;
  from_an_arena_of_4("count_words(20,000 lines)",
                     [&] { counts = kata::count_words(lines, split_words); });
  long counted = 0;
  for (const auto& [word, count] : counts) counted += count;
  EXPECT_TRUE(counts == expected)
      << "160,000 words were counted as " << counted << ", or under the wrong words: when two "
      << "threads add to the same std::map at once, updates get lost (a data race). Is the map "
         "shared by all the threads? A concurrent container can be";
}

TEST_F(ArenaAndContainers, TwoLinesAreSplitAtTheSameTime) {
  const std::vector<std::string> lines = some_lines(500);
  testkit::TimedBarrier ends(2, 2000ms);
  std::map<std::string, long> counts;
  from_an_arena_of_4("count_words(500 lines)", [&] {
    counts = kata::count_words(lines, [&](const std::string& line) {
      if (&line == &lines.front() || &line == &lines.back()) ends.arrive_and_wait();
      return split_words(line);
    });
  });
  EXPECT_TRUE(ends.completed())
      << "the first and the last line were never split at the same time (each waited 2 s for "
         "the other in vain): are the lines counted in a loop on one thread?";
  EXPECT_EQ(counts.size(), 14u) << "the 500 lines hold 14 different words";
}

long long square(long long x) { return x * x; }

TEST_F(ArenaAndContainers, SumOfIsExact) {
  std::vector<long long> xs(100'000);
  std::iota(xs.begin(), xs.end(), 0LL);
  long long sum = 0;
  from_an_arena_of_4("sum_of(100,000 squares)", [&] { sum = kata::sum_of(xs, square); });
  EXPECT_EQ(sum, 333'328'333'350'000LL) << "the sum of the squares of 0 ... 99,999 is wrong";
}

TEST_F(ArenaAndContainers, SumOfCallsFAtTheSameTime) {
  std::vector<long long> xs(1000);
  std::iota(xs.begin(), xs.end(), 0LL);
  testkit::TimedBarrier ends(2, 2000ms);
  long long sum = 0;
  from_an_arena_of_4("sum_of(1000 squares)", [&] {
    sum = kata::sum_of(xs, [&](long long x) {
      if (x == 0 || x == 999) ends.arrive_and_wait();
      return x * x;
    });
  });
  EXPECT_EQ(sum, 332'833'500LL) << "the sum of the squares of 0 ... 999 is wrong";
  EXPECT_TRUE(ends.completed())
      << "f(0) and f(999) were never running at the same time (each waited 2 s for the other in "
         "vain): does sum_of still make its calls one after another? Which execution policy "
         "lets a standard algorithm spread them over threads?";
}

}  // namespace
