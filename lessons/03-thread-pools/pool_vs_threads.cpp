// pool_vs_threads: what it costs to run a small task on another thread, with and without a
// pool, on this machine.
//
// Measures the median time per task of
//   - a new std::thread per task, started and joined (what lesson 01 measured),
//   - one task handed to a pool of 2 workers, waiting for it before handing the next (the
//     round trip: queue, wake a sleeping worker, run, report back),
//   - a round of 1,000 tasks handed to the same pool at once, waiting for all of them (the
//     workers stay awake and take task after task),
// and prints them as a table. Lesson 03 (README.md#why-a-pool) quotes these figures.
//
//   pool_vs_threads           measure properly (a few seconds)
//   pool_vs_threads --quick   a few repetitions only (for make check; well under 2 s)
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "thread_pool.hpp"  // support::ThreadPool: kata 03a's pool, solved

namespace {

using Clock = std::chrono::steady_clock;

// The median of `samples` timings of `round()`, each divided by `tasks_per_round`: µs per task.
template <typename Round>
double median_us_per_task(int samples, int tasks_per_round, Round round) {
  for (int i = 0; i < 3; ++i) round();  // warm up: thread stacks, page faults, caches
  std::vector<double> per_task;
  for (int s = 0; s < samples; ++s) {
    const auto start = Clock::now();
    round();
    const std::chrono::duration<double, std::micro> took = Clock::now() - start;
    per_task.push_back(took.count() / tasks_per_round);
  }
  std::sort(per_task.begin(), per_task.end());
  return per_task[per_task.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 20 : 400;
  constexpr int kRound = 1000;

  const double thread_us = median_us_per_task(samples, 1, [] { std::thread([] {}).join(); });

  support::ThreadPool pool(2);
  const double round_trip_us = median_us_per_task(samples, 1, [&] {
    std::latch done(1);
    pool.submit([&done] { done.count_down(); });
    done.wait();
  });
  const double batched_us = median_us_per_task(quick ? 5 : 100, kRound, [&] {
    std::latch done(kRound);
    for (int i = 0; i < kRound; ++i) pool.submit([&done] { done.count_down(); });
    done.wait();
  });

  fmt::print("Running an empty task on another thread: median per task{}; {} hardware threads\n\n",
             quick ? " (--quick: rough figures)" : "", std::thread::hardware_concurrency());
  fmt::print("{:<52} {:>10} {:>14}\n", "", "µs/task", "vs new thread");
  auto row = [&](const std::string& what, double us) {
    fmt::print("{:<52} {:>10.2f} {:>13.1f}x\n", what, us, thread_us / us);
  };
  row("new std::thread per task, start + join", thread_us);
  row("pool of 2: one task at a time, wait for each", round_trip_us);
  row("pool of 2: 1,000 tasks at once, wait for all", batched_us);
  fmt::print(
      "\nA pool saves the thread start ({:.1f} µs here). One task at a time still pays for waking "
      "a sleeping worker; a steady stream of tasks keeps the workers awake and costs {:.2f} µs "
      "each.\n",
      thread_us, batched_us);
  return 0;
}
