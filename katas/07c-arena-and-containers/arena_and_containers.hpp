// Kata 07c · Bound the workers with a task_arena; share results in a concurrent container
// Lesson: lessons/07-onetbb/README.md#bounding-concurrency-task_arena
//
// Three small jobs on oneTBB, each with one mistake. run_limited() runs its jobs on every thread
// of the caller's arena, however many that is: give it a tbb::task_arena of max_workers threads.
// count_words() splits its lines in parallel, but every thread adds to one shared std::map: a data
// race (read 'Concurrent containers'). sum_of() calls f on one thread: let C++17's
// std::execution::par run the calls at the same time (read 'Parallel algorithms').
//
// Grade it: make test KATA=07c        Stuck? make hint KATA=07c
#pragma once

#include <oneapi/tbb/parallel_for.h>

#include <cstddef>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

namespace kata {

using Job = std::function<void(std::size_t index)>;

// Runs job(0) ... job(jobs - 1), each once, at most max_workers (>= 1) of them at the same
// time, in whatever arena the caller runs.
inline void run_limited(std::size_t jobs, int max_workers, const Job& job) {
  // TODO: the loop takes every thread of the caller's arena, not max_workers.
  (void)max_workers;
  tbb::parallel_for(std::size_t{0}, jobs, [&](std::size_t i) { job(i); });
}

// Splits a line into its words.
using Splitter = std::function<std::vector<std::string>(const std::string& line)>;

// How often each word occurs in lines; the lines are split at the same time.
inline std::map<std::string, long> count_words(const std::vector<std::string>& lines,
                                               const Splitter& split) {
  std::map<std::string, long> counts;
  tbb::parallel_for(std::size_t{0}, lines.size(), [&](std::size_t i) {
    // TODO: two threads insert into and add to the same std::map at once.
    for (const std::string& word : split(lines[i])) ++counts[word];
  });
  return counts;
}

// The sum of f(x) over xs, with the calls of f made at the same time.
inline long long sum_of(const std::vector<long long>& xs,
                        const std::function<long long(long long)>& f) {
  // TODO: one call after another, on this thread.
  return std::transform_reduce(xs.begin(), xs.end(), 0LL, std::plus<long long>(), f);
}

}  // namespace kata
