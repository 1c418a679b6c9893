// Lesson 08 demo: how each OpenMP schedule shares out a loop's iterations between 2 threads, and
// what that does to imbalanced work.
//   schedules           48 iterations drawn as the thread that ran each, then the Mandelbrot
//                       rows of bench/08-openmp_bench.cpp timed per schedule (median of 5)
//   schedules --quick   one timing of a smaller image (for make check; well under 2 s)
#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "mandelbrot_rows.hpp"

namespace {

constexpr int kThreads = 2;

struct Kind {
  const char* name;
  omp_sched_t schedule;
  int chunk;  // 0: the schedule's default
};

constexpr Kind kKinds[] = {{"static", omp_sched_static, 0},
                           {"static, chunk 1", omp_sched_static, 1},
                           {"dynamic, chunk 1", omp_sched_dynamic, 1},
                           {"dynamic, chunk 4", omp_sched_dynamic, 4},
                           {"guided", omp_sched_guided, 1}};

// Which thread ran each of `n` iterations, as a string of thread numbers. Each iteration takes a
// few microseconds, so that a dynamic schedule has something to share out.
std::string who_ran(const Kind& kind, int n) {
  omp_set_schedule(kind.schedule, kind.chunk);
  std::string ran(static_cast<std::size_t>(n), '?');
#pragma omp parallel for num_threads(kThreads) schedule(runtime)
  for (int i = 0; i < n; ++i) {
    ran[static_cast<std::size_t>(i)] = static_cast<char>('0' + omp_get_thread_num());
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
  }
  return ran;
}

struct Timing {
  double ms;
  double thread0_share;  // the part of the steps that thread 0 did
};

Timing time_rows(const Kind& kind, int threads, int size) {
  omp_set_schedule(kind.schedule, kind.chunk);
  long total = 0;
  long by_thread0 = 0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(runtime) reduction(+ : total, by_thread0)
  for (int row = 0; row < size; ++row) {
    const long steps = support::mandelbrot_row_steps(row, size, size, 1000);
    total += steps;
    if (omp_get_thread_num() == 0) by_thread0 += steps;
  }
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  return {took.count(), static_cast<double>(by_thread0) / static_cast<double>(total)};
}

Timing median_of(int runs, const Kind& kind, int threads, int size) {
  std::vector<Timing> all;
  for (int i = 0; i < runs; ++i) all.push_back(time_rows(kind, threads, size));
  std::sort(all.begin(), all.end(), [](const Timing& a, const Timing& b) { return a.ms < b.ms; });
  return all[all.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int size = quick ? 96 : 256;
  const int runs = quick ? 1 : 5;

  fmt::print("Which of {} threads ran each of 48 iterations (one digit per iteration):\n\n",
             kThreads);
  for (const Kind& kind : kKinds) fmt::print("  {:<18} {}\n", kind.name, who_ran(kind, 48));

  fmt::print("\n{} x {} Mandelbrot rows, the first ones costliest ({}):\n\n", size, size,
             quick ? "one run" : "median of 5 runs");
  time_rows(kKinds[0], kThreads, size);  // a first run starts the worker thread: not timed
  const Timing alone = median_of(runs, kKinds[0], 1, size);
  fmt::print("  {:<18} {:>8} {:>10} {:>16}\n", "schedule", "ms", "speed-up", "thread 0's part");
  fmt::print("  {:<18} {:>8.1f} {:>9.2f}x {:>15.0f}%\n", "1 thread", alone.ms, 1.0, 100.0);
  for (const Kind& kind : kKinds) {
    const Timing two = median_of(runs, kind, kThreads, size);
    fmt::print("  {:<18} {:>8.1f} {:>9.2f}x {:>15.0f}%\n", kind.name, two.ms, alone.ms / two.ms,
               100.0 * two.thread0_share);
  }
  fmt::print(
      "\nstatic gives each thread one block of rows: thread 0 gets the costly half and thread 1 "
      "waits\nat the end of the loop. The others hand out small pieces, so both threads stay "
      "busy.\n");
  return 0;
}
