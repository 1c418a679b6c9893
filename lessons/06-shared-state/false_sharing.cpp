// false_sharing: two threads, each incrementing a counter of its own, with the two counters
// packed side by side or a cache line apart, on this machine.
//
// No counter is shared, so nothing needs a lock; each increment is a relaxed atomic fetch_add
// (as in kata 06d, where another thread may read the counters meanwhile). What differs is
// only where the two counters lie:
//   - packed: 8 bytes apart, in one 64-byte cache line (two neighbours in a std::vector<long>);
//   - a cache line apart: alignas(support::kCacheLineSize), as in kata 06d's solution;
//   - two cache lines apart (128 bytes), for cores that fetch lines in pairs;
//   - and, for scale, one counter truly shared by both threads, and a local count per thread
//     written to its slot once at the end.
// Prints the median time per increment, over the runs in which both threads ran side by side, (a
// thread's loop time / its increments) and the ratio to the padded layout. Lesson 06
// (README.md#false-sharing) quotes these figures.
//
//   false_sharing           measure properly (a few seconds)
//   false_sharing --quick   few and small repetitions (for make check; well under 2 s)
#include <fmt/core.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cache_line.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Two counters `Gap` bytes apart, in one block aligned to a cache line.
template <std::size_t Gap>
struct alignas(2 * support::kCacheLineSize) Pair {
  std::atomic<long> first{0};
  char gap[Gap - sizeof(std::atomic<long>)];
  std::atomic<long> second{0};
};

struct Timing {
  double ns;     // per increment, as a thread sees it
  double cores;  // CPU time of the process / wall time: about 2 when both threads really ran
};

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Runs the two threads, thread t calling work(t) once, started together at a barrier; returns
// the mean of the two threads' own times for work(), in ns, divided by `n`, and how many cores
// the process kept busy meanwhile.
template <typename Work>
Timing run_two(long n, Work work) {
  const double cpu_before = process_cpu_seconds();
  const auto wall_before = Clock::now();
  std::barrier start(2);
  double took_ns[2] = {};
  auto timed = [&](int t) {
    start.arrive_and_wait();
    const auto began = Clock::now();
    work(t);
    took_ns[t] = std::chrono::duration<double, std::nano>(Clock::now() - began).count();
  };
  std::thread one(timed, 0);
  std::thread two(timed, 1);
  one.join();
  two.join();
  const std::chrono::duration<double> wall = Clock::now() - wall_before;
  return {(took_ns[0] + took_ns[1]) / 2 / static_cast<double>(n),
          (process_cpu_seconds() - cpu_before) / wall.count()};
}

// The median of the runs in which both threads really ran side by side (at least 1.6 cores
// busy: on a machine where another program holds a core, the two threads take turns, nothing is
// shared at the same moment, and the run measures nothing of interest). Only if no run got two
// cores, the median of all, with its low `cores` showing it.
template <typename Work>
Timing median_of(int repeats, long n, Work work) {
  std::vector<Timing> all, side_by_side;
  for (int r = 0; r < repeats; ++r) {
    all.push_back(run_two(n, work));
    if (all.back().cores >= 1.6) side_by_side.push_back(all.back());
  }
  std::vector<Timing>& samples = side_by_side.empty() ? all : side_by_side;
  std::sort(samples.begin(), samples.end(),
            [](const Timing& a, const Timing& b) { return a.ns < b.ns; });
  return samples[samples.size() / 2];
}

void count_into(std::atomic<long>& counter, long n) {
  for (long i = 0; i < n; ++i) counter.fetch_add(1, std::memory_order_relaxed);
}

template <std::size_t Gap>
Timing pair_apart(int repeats, long n) {
  return median_of(repeats, n, [n](int t) {
    static Pair<Gap> pair;
    count_into(t == 0 ? pair.first : pair.second, n);
  });
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const long n = quick ? 200'000 : 5'000'000;
  const int repeats = quick ? 1 : 7;

  std::vector<std::atomic<long>> packed_slots(2);  // kata 06d's starter: neighbours in a vector
  const Timing packed = median_of(repeats, n, [&](int t) { count_into(packed_slots[t], n); });
  const Timing padded = pair_apart<support::kCacheLineSize>(repeats, n);
  const Timing two_lines = pair_apart<2 * support::kCacheLineSize>(repeats, n);
  std::atomic<long> shared{0};
  const Timing shared_one = median_of(repeats, n, [&](int) { count_into(shared, n); });
  std::vector<long> results(2);
  const Timing local = median_of(repeats, n, [&](int t) {
    std::atomic<long> mine{0};
    count_into(mine, n);
    results[t] = mine.load();
  });

  fmt::print(
      "2 threads, {} increments each (relaxed fetch_add), median of {} run{} with both threads "
      "side by side{}; {} hardware "
      "threads\n\n",
      n, repeats, repeats == 1 ? "" : "s", quick ? " (--quick: rough figures)" : "",
      std::thread::hardware_concurrency());
  fmt::print("{:<44} {:>16} {:>20} {:>12}\n", "where each thread's counter is", "ns per increment",
             "× a cache line apart", "cores busy");
  bool crowded = false;
  auto row = [&](const std::string& what, const Timing& t) {
    fmt::print("{:<44} {:>16.2f} {:>20.2f} {:>12.2f}\n", what, t.ns, t.ns / padded.ns, t.cores);
    crowded = crowded || t.cores < 1.6;
  };
  row("packed: 8 bytes apart, one cache line", packed);
  row("a cache line apart (64 bytes)", padded);
  row("two cache lines apart (128 bytes)", two_lines);
  row("one counter shared by both (for scale)", shared_one);
  row("a local counter, stored once (for scale)", local);
  if (crowded && !quick) {
    fmt::print(
        "\nIn some rows not one run kept 1.6 cores busy: other programs had a core, so the two "
        "threads\ntook turns instead of running together, and nothing was shared at the same "
        "moment.\nThose rows say little; run again when the machine is quieter.\n");
  }
  return 0;
}
