// Lesson 03 in numbers: what one task costs when it goes through a pool, next to the other
// ways of running it elsewhere, and how the chunk size changes a CPU-bound map.
//
//   TaskCost/<runtime>      per_task = time per empty task, in a round of many tasks:
//                           the reference pool of kata 03a (2 workers), oneTBB's task_group,
//                           std::async(std::launch::async, ...), a new std::thread per task
//   CpuMap/sequential       a loop over 20,000 inputs of about 2 µs each, on one thread
//   CpuMap/chunksize:<n>    the same through map() of kata 03b on a pool of 2 workers
//
// Targets (issue 9): the pool's per_task at most 2x oneTBB's and at least 10x below
// std::async's; the best CpuMap at least 1.8x faster than sequential on 2 cores.
// `make bench` runs this with repetitions and draws bench/charts/03-thread-pools.gp from
// the JSON it writes; lessons/03-thread-pools/README.md#what-the-benchmarks-say reads them.
#include <benchmark/benchmark.h>
#include <tbb/task_group.h>

#include <cstdint>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include "../solutions/03a-thread-pool/thread_pool.hpp"  // kata::ThreadPool, the reference pool
#include "../solutions/03b-pool-map/pool_map.hpp"        // kata::map, on support::ThreadPool
#include "cpu_map.hpp"                                   // the map lessons 03, 05 and 11 time

namespace {

// Tasks per timed round. Thread-per-task runtimes get fewer: each task is a thread start.
constexpr int kPoolRound = 1000;
constexpr int kThreadRound = 100;

benchmark::Counter per_task(int tasks_per_iteration) {
  // Seconds per task: (time / iterations) / tasks_per_iteration.
  return benchmark::Counter(
      static_cast<double>(tasks_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void TaskCostReferencePool(benchmark::State& state) {
  kata::ThreadPool pool(2);
  for (auto _ : state) {
    std::latch done(kPoolRound);
    for (int i = 0; i < kPoolRound; ++i) pool.submit([&done] { done.count_down(); });
    done.wait();
  }
  state.counters["per_task"] = per_task(kPoolRound);
}
BENCHMARK(TaskCostReferencePool)->Name("TaskCost/reference_pool")->UseRealTime();

void TaskCostTbbTaskGroup(benchmark::State& state) {
  for (auto _ : state) {
    std::latch done(kPoolRound);
    tbb::task_group group;
    for (int i = 0; i < kPoolRound; ++i) group.run([&done] { done.count_down(); });
    group.wait();
  }
  state.counters["per_task"] = per_task(kPoolRound);
}
BENCHMARK(TaskCostTbbTaskGroup)->Name("TaskCost/onetbb_task_group")->UseRealTime();

void TaskCostStdAsync(benchmark::State& state) {
  std::vector<std::future<void>> futures;
  futures.reserve(kThreadRound);
  for (auto _ : state) {
    for (int i = 0; i < kThreadRound; ++i) {
      futures.push_back(std::async(std::launch::async, [] {}));
    }
    for (std::future<void>& future : futures) future.get();
    futures.clear();
  }
  state.counters["per_task"] = per_task(kThreadRound);
}
BENCHMARK(TaskCostStdAsync)->Name("TaskCost/std_async")->UseRealTime();

void TaskCostThreadPerTask(benchmark::State& state) {
  std::vector<std::thread> threads;
  threads.reserve(kThreadRound);
  for (auto _ : state) {
    for (int i = 0; i < kThreadRound; ++i) threads.emplace_back([] {});
    for (std::thread& thread : threads) thread.join();
    threads.clear();
  }
  state.counters["per_task"] = per_task(kThreadRound);
}
BENCHMARK(TaskCostThreadPerTask)->Name("TaskCost/thread_per_task")->UseRealTime();

// ---- a CPU-bound map ---------------------------------------------------------------------

// The map's inputs and its ~2 µs of arithmetic per input, shared with lessons 05 and 11.
using cpu_map::busy;
using cpu_map::kInputs;

const std::vector<std::uint64_t>& map_inputs() {
  static const std::vector<std::uint64_t> inputs = [] {
    std::vector<std::uint64_t> xs;
    for (int i = 0; i < kInputs; ++i) xs.push_back(static_cast<std::uint64_t>(i) * 7919);
    return xs;
  }();
  return inputs;
}

void CpuMapSequential(benchmark::State& state) {
  const auto& xs = map_inputs();
  for (auto _ : state) {
    std::vector<std::uint64_t> results;
    results.reserve(xs.size());
    for (std::uint64_t x : xs) results.push_back(busy(x));
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["inputs"] = kInputs;
}
BENCHMARK(CpuMapSequential)->Name("CpuMap/sequential")->UseRealTime();

void CpuMapOnPool(benchmark::State& state) {
  const auto& xs = map_inputs();
  const auto chunksize = static_cast<std::size_t>(state.range(0));
  support::ThreadPool pool(2);
  for (auto _ : state) {
    std::vector<std::uint64_t> results = kata::map(pool, busy, xs, chunksize);
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["inputs"] = kInputs;
  state.counters["tasks"] = static_cast<double>((xs.size() + chunksize - 1) / chunksize);
}
// 2500 is Python's default for 20,000 inputs on 2 workers (four chunks per worker).
BENCHMARK(CpuMapOnPool)
    ->Name("CpuMap")
    ->ArgName("chunksize")
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(2500)
    ->Arg(10000)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
