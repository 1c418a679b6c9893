// Tests for kata 07c: run_limited() runs its jobs in a task_arena of max_workers threads, so at
// most (and at best) max_workers run at once; count_words() counts exactly while lines are split
// at the same time; sum_of() makes its calls of f at the same time (std::execution::par).
//
// oneTBB is pinned to 4 threads (testkit::OneTbbTest), and the calls are made from inside an
// arena of 4, a caller with more threads than max_workers, on any machine. Inside a job,
// tbb::this_task_arena::max_concurrency() says how many threads the job's arena has: 4 when the
// loop runs in the caller's arena, whatever the timing. An in-flight probe counts the jobs that
// run at once; each job waits (bounded) until as many have been in flight together as its arena
// has threads, so both a bound that is right and one that is missing show in the count; once a job
// has waited in vain (its arena has threads that never come: a tbb::global_control caps the whole
// program), no job waits again, and the test names that mistake instead of running into the
// grader's time limit. Running at the same time is proven with a timed barrier that the first and
// the last line (or element) must reach together. The exact count is tested in up to 16 rounds
// of two lines, from an arena of 2: the splits meet at a timed barrier and spin until both have
// left it, so two threads start adding their words at the same moment: 10,000 times the same word
// each (lost updates) in odd rounds, 5,000 different new words each (a corrupted tree) in even
// ones. A data race is not certain to show in a given run, and only where the two threads really
// run at once; the rounds give it many chances. Measured on 2 shared cores: see the lesson.
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

// Runs fn in an arena of `threads` threads, under a deadline that ends before the grader's 10 s,
// so that a hang is named with this kata's hint.
void from_an_arena(int threads, const std::string& what, const std::function<void()>& fn) {
  testkit::finishes_within(
      8s, what,
      [&] {
        tbb::task_arena caller(threads);
        caller.execute(fn);
      },
      kHangHint);
}

// Runs fn in an arena of 4 threads: a caller with more threads than the kata may use.
void from_an_arena_of_4(const std::string& what, const std::function<void()>& fn) {
  from_an_arena(4, what, fn);
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
         "its loop in the arena it was called from, instead of in a tbb::task_arena of its own? (A "
         "tbb::global_control caps the threads of the whole program, not the arena's size.)";
}

// What run_limited(12 jobs, max_workers) showed: the most jobs that ran at once, and how many
// threads the arena they ran in has (tbb::this_task_arena::max_concurrency()).
struct Overlap {
  int most = 0;
  int arena_threads = 0;
};

// Runs 12 jobs with max_workers. Each job waits (up to 2 s) until as many jobs have been in flight
// together as its arena has threads: then a loop in an arena of max_workers has shown that it
// reaches max_workers, and a loop in the caller's arena of 4 that it goes past it, whatever the
// timing. A job that waits in vain sets waited_in_vain, and from then on no job waits: the arena
// has threads that never come, and the test says so at once.
Overlap jobs_at_once(int max_workers, std::atomic<bool>& waited_in_vain) {
  testkit::InflightProbe probe;
  std::atomic<int> arena_threads{0};
  from_an_arena_of_4("run_limited(12 jobs, max_workers " + std::to_string(max_workers) + ")", [&] {
    kata::run_limited(12, max_workers, [&](std::size_t) {
      const auto in = probe.enter();
      const int threads = tbb::this_task_arena::max_concurrency();
      keep_max(arena_threads, threads);
      if (waited_in_vain.load()) return;
      if (!testkit::eventually([&] { return probe.max_in_flight() >= threads; }, 2000ms)) {
        waited_in_vain.store(true);
      }
    });
  });
  return {probe.max_in_flight(), arena_threads.load()};
}

// What went wrong when `seen` is not max_workers jobs at once in an arena of max_workers.
std::string overlap_mistake(int max_workers, const Overlap& seen) {
  const std::string ran = "with max_workers " + std::to_string(max_workers) + ", up to " +
                          std::to_string(seen.most) + " jobs ran at once";
  if (seen.most > max_workers)
    return ran + ": is the loop bounded by an arena of max_workers threads?";
  if (seen.arena_threads > max_workers) {
    return ran + ", in an arena of " + std::to_string(seen.arena_threads) +
           " threads (tbb::this_task_arena::max_concurrency()) whose other threads never came "
           "(a job waited 2 s for them in vain): is the number of threads capped for the whole "
           "program, with a tbb::global_control, while the loop still runs in the caller's arena? "
           "A tbb::task_arena of max_workers threads bounds only the loop run inside it";
  }
  return ran + ": is the arena smaller than max_workers?";
}

TEST_F(ArenaAndContainers, AtMostMaxWorkersJobsRunAtOnceAndThatManyDo) {
  std::atomic<bool> waited_in_vain{false};
  for (const int max_workers : {1, 2, 3}) {
    const Overlap seen = jobs_at_once(max_workers, waited_in_vain);
    EXPECT_TRUE(seen.most == max_workers && seen.arena_threads == max_workers)
        << overlap_mistake(max_workers, seen);
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

// The words of the two lines of a round of CountsEveryWordExactly.
struct TwoLines {
  std::vector<std::string> first, second;
  std::map<std::string, long> counts;  // of the words of both

  void count() {
    for (const std::string& word : first) ++counts[word];
    for (const std::string& word : second) ++counts[word];
  }
};

// 10,000 times "spam" in each line: both threads add to one entry all the time.
TwoLines the_same_word() {
  TwoLines words;
  words.first.assign(10'000, "spam");
  words.second.assign(10'000, "spam");
  words.count();
  return words;
}

// 5,000 different words in each line, none in both ("w000000", "w000002", ... and "w000001",
// "w000003", ...): both threads insert new entries next to each other in the map all the time.
TwoLines different_words() {
  TwoLines words;
  for (int i = 0; i < 10'000; ++i) {
    std::string word = std::to_string(1'000'000 + i);
    (i % 2 == 0 ? words.first : words.second).push_back("w" + word.substr(1));
  }
  words.count();
  return words;
}

// Counts the two lines with kata::count_words and returns whether the count was exact. The two
// splits meet at a timed barrier, then spin until both have left it (a thread that a barrier wakes
// can take longer to run again than the other needs for all its words), so both threads start
// adding their words at the same moment. lines_met turns false once the splits did not meet (they
// ran one after the other); then nobody waits again.
bool counted_exactly_while_both_add(const TwoLines& words, std::atomic<bool>& lines_met) {
  static const std::vector<std::string> kLines = {"the first line", "the second line"};
  testkit::TimedBarrier together(2, 2000ms);
  std::atomic<int> out_of_the_barrier{0};
  const std::map<std::string, long> counts =
      kata::count_words(kLines, [&](const std::string& line) -> std::vector<std::string> {
        const std::vector<std::string>& mine = &line == &kLines[0] ? words.first : words.second;
        if (!lines_met.load()) return mine;
        if (!together.arrive_and_wait()) {
          lines_met.store(false);
          return mine;
        }
        out_of_the_barrier.fetch_add(1);
        while (out_of_the_barrier.load() < 2) {
        }
        return mine;
      });
  return counts == words.counts;
}

TEST_F(ArenaAndContainers, CountsEveryWordExactly) {
  static constexpr int kRounds = 16;
  std::atomic<bool> lines_met{true};
  const TwoLines same = the_same_word();
  const TwoLines different = different_words();
  int wrong_round = 0;
  // The rounds run in an arena of 2: no third thread looks for work meanwhile, on 2 cores.
  from_an_arena(
      2, "count_words(2 lines of 10,000 or 5,000 words), " + std::to_string(kRounds) + " times",
      [&] {
        for (int round = 1; round <= kRounds && wrong_round == 0; ++round) {
          if (!counted_exactly_while_both_add(round % 2 == 1 ? same : different, lines_met))
            wrong_round = round;
        }
      });
  ASSERT_EQ(wrong_round, 0)
      << "in round " << wrong_round << " of " << kRounds << ", two threads split a line each and "
      << (wrong_round % 2 == 1 ? "added 10,000 times \"spam\"" : "added 5,000 different words")
      << " at the same moment, and the counts came out wrong: when two threads change the same "
         "std::map at once, updates get lost and its tree gets corrupted (a data race). Is the map "
         "shared by all the threads? A concurrent container can be changed by many threads at once";
  const std::vector<std::string> lines = some_lines(2000);
  std::map<std::string, long> expected;
  for (const std::string& line : lines) {
    for (const std::string& word : split_words(line)) ++expected[word];
  }
  std::map<std::string, long> counts;
  from_an_arena_of_4("count_words(2,000 lines)",
                     [&] { counts = kata::count_words(lines, split_words); });
  long counted = 0;
  for (const auto& [word, count] : counts) counted += count;
  EXPECT_TRUE(counts == expected)
      << "the 16,000 words of 2,000 lines (14 different ones) were counted as " << counted
      << ", or under the wrong words: is every word of every line added exactly once, and never by "
         "two "
         "threads to the same std::map at once?";
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
