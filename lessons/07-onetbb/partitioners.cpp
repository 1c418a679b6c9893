// partitioners: how oneTBB cuts a loop into pieces, and what that costs. One cheap loop (a square
// root per item) runs as a plain loop and as tbb::parallel_reduce with each partitioner and a few
// grainsizes; for each, how many pieces the body got, the largest piece, the time and the
// speed-up over the plain loop. Then: oneTBB's worker threads stay after the loop, until
// tbb::finalize ends them. Lesson 07 (README.md#grainsize-and-partitioners) reads the table.
//
//   partitioners           measure properly (10 million items, median of 3 runs each)
//   partitioners --quick   small runs (for make check; well under 2 s)
#include <fmt/core.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Range = tbb::blocked_range<long>;

// What the body saw: how many pieces, and the largest.
struct Seen {
  std::atomic<long> pieces{0};
  std::atomic<long> largest{0};
  void piece(long size) {
    pieces.fetch_add(1, std::memory_order_relaxed);
    long known = largest.load(std::memory_order_relaxed);
    while (size > known && !largest.compare_exchange_weak(known, size)) {
    }
  }
};

double roots(long begin, long end) {
  double sum = 0;
  for (long i = begin; i < end; ++i) sum += std::sqrt(static_cast<double>(i));
  return sum;
}

// parallel_reduce over [0, items) with the given grainsize and partitioner.
template <typename Partitioner>
double reduce(long items, long grainsize, Seen& seen) {
  Partitioner partitioner;
  return tbb::parallel_reduce(
      Range(0, items, static_cast<std::size_t>(grainsize)), 0.0,
      [&](const Range& piece, double total) {
        seen.piece(static_cast<long>(piece.size()));
        return total + roots(piece.begin(), piece.end());
      },
      std::plus<double>(), partitioner);
}

struct Way {
  const char* name;
  long grainsize;
  double (*run)(long items, long grainsize, Seen& seen);  // null: the plain loop
};

// The kernel's count of this process's threads (the "Threads:" line of /proc/self/status).
int threads_now() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const long items = quick ? 200'000 : 10'000'000;
  const int repeats = quick ? 1 : 3;
  // Held from the start, so that tbb::finalize can end the workers at the end.
  tbb::task_scheduler_handle scheduler{tbb::attach{}};
  const int threads_before = threads_now();

  const Way ways[] = {
      {"plain loop, one thread", 0, nullptr},
      {"simple_partitioner", 1, reduce<tbb::simple_partitioner>},
      {"simple_partitioner", 100, reduce<tbb::simple_partitioner>},
      {"simple_partitioner", 10'000, reduce<tbb::simple_partitioner>},
      {"auto_partitioner", 1, reduce<tbb::auto_partitioner>},
      {"auto_partitioner", 10'000, reduce<tbb::auto_partitioner>},
      {"static_partitioner", 1, reduce<tbb::static_partitioner>},
  };
  fmt::print("A sum of square roots over {} items, {} hardware threads, median of {} run(s).\n\n",
             items, std::thread::hardware_concurrency(), repeats);
  fmt::print("  {:<24} {:>9} {:>10} {:>13} {:>10} {:>9}\n", "", "grainsize", "pieces",
             "largest piece", "time", "speed-up");
  double plain = 0;
  for (const Way& way : ways) {
    std::vector<double> times;
    Seen seen;
    double result = 0;
    for (int r = 0; r < repeats; ++r) {
      seen.pieces = 0;
      seen.largest = 0;
      const auto start = Clock::now();
      result = way.run == nullptr ? roots(0, items) : way.run(items, way.grainsize, seen);
      times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    if (way.run == nullptr) plain = median;
    const double expected = roots(0, items);
    if (std::abs(result - expected) > 1e-9 * expected) {
      fmt::print("  {}: wrong sum {} (expected {})\n", way.name, result, expected);
      return 1;
    }
    if (way.run == nullptr) {
      fmt::print("  {:<24} {:>9} {:>10} {:>13} {:>8.1f}ms {:>8.2f}x\n", way.name, "-", 1, items,
                 median * 1e3, 1.0);
    } else {
      fmt::print("  {:<24} {:>9} {:>10} {:>13} {:>8.1f}ms {:>8.2f}x\n", way.name, way.grainsize,
                 seen.pieces.load(), seen.largest.load(), median * 1e3, plain / median);
    }
  }

  const int threads_after = threads_now();
  const bool ended = tbb::finalize(scheduler, std::nothrow);
  fmt::print(
      "\nThreads in this process: {} before the loops, {} after them (oneTBB's workers wait for "
      "more work),\n{} after tbb::finalize{}.\n",
      threads_before, threads_after, threads_now(), ended ? "" : " (which failed)");
  return 0;
}
