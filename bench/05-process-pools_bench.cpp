// Lesson 05 in numbers: what a task costs when it goes to another process, next to a raw pipe
// round trip and lesson 03's thread pool, and how a CPU-bound map compares.
//
//   SmallTask/<runtime>   per_task = time per tiny task (an 8-byte input, an 8-byte result):
//                           pipe_round_trip    one forked child; 8 bytes there, 8 bytes back,
//                                              one at a time (lesson 02's measurement)
//                           process_pool_05a   kata 05a's ProcessPool(2).map over a round of
//                                              inputs: frames, two workers, ordered results
//                           thread_pool_03     lesson 03's pool of 2 threads, same round
//   CpuMap/<runtime>      20,000 inputs of about 2 µs of arithmetic each, as in lesson 03:
//                           sequential, thread_pool_03 (chunks of 2,500), process_pool_05a
//                           (the same chunks, one task per chunk, results as bytes)
//
// Target (issue 10): the process pool's small-task throughput at least 30 % of the raw pipe
// round-trip rate, i.e. per_task(process_pool_05a) <= per_task(pipe_round_trip) / 0.3.
// `make bench` runs this with repetitions and draws bench/charts/05-process-pools.gp; the
// lesson's "Process pool or thread pool?" reads them.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <latch>
#include <string>
#include <vector>

#include "../solutions/05a-process-pool/process_pool.hpp"  // kata::ProcessPool, the reference
#include "cpu_map.hpp"                                     // the map lessons 03, 05 and 11 time
#include "thread_pool.hpp"                                 // support::ThreadPool (lesson 03)

namespace {

constexpr int kRound = 1000;  // tiny tasks per timed round

benchmark::Counter per_task(int tasks_per_iteration) {
  // Seconds per task: (time / iterations) / tasks_per_iteration.
  return benchmark::Counter(
      static_cast<double>(tasks_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

using cpu_map::as_bytes;

std::uint64_t from_bytes(const std::string& bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data(), std::min(bytes.size(), sizeof value));
  return value;
}

// ---- tiny tasks ----------------------------------------------------------------------------

void SmallTaskPipeRoundTrip(benchmark::State& state) {
  int to_child[2];
  int to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  const pid_t child = fork();
  if (child == 0) {  // echo 8-byte messages, plus one, until end-of-file
    close(to_child[1]);
    close(to_parent[0]);
    std::uint64_t value = 0;
    while (read(to_child[0], &value, sizeof value) == sizeof value) {
      ++value;
      if (write(to_parent[1], &value, sizeof value) != sizeof value) break;
    }
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < kRound; ++i) {
      std::uint64_t value = i;
      if (write(to_child[1], &value, sizeof value) != sizeof value ||
          read(to_parent[0], &value, sizeof value) != sizeof value) {
        state.SkipWithError("the echo child went away");
        break;
      }
      benchmark::DoNotOptimize(value);
    }
  }
  close(to_child[1]);
  close(to_parent[0]);
  waitpid(child, nullptr, 0);
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(SmallTaskPipeRoundTrip)->Name("SmallTask/pipe_round_trip")->UseRealTime();

const std::vector<std::string>& small_inputs() {
  static const std::vector<std::string> inputs = [] {
    std::vector<std::string> xs;
    for (std::uint64_t i = 0; i < kRound; ++i) xs.push_back(as_bytes(i));
    return xs;
  }();
  return inputs;
}

void SmallTaskProcessPool(benchmark::State& state) {
  kata::ProcessPool pool(2, [](const std::string& in) { return as_bytes(from_bytes(in) + 1); });
  for (auto _ : state) {
    std::vector<std::string> results = pool.map(small_inputs());
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(SmallTaskProcessPool)->Name("SmallTask/process_pool_05a")->UseRealTime();

void SmallTaskThreadPool(benchmark::State& state) {
  support::ThreadPool pool(2);
  std::vector<std::uint64_t> results(kRound);
  for (auto _ : state) {
    std::latch done(kRound);
    for (int i = 0; i < kRound; ++i) {
      pool.submit([&results, &done, i] {
        results[i] = static_cast<std::uint64_t>(i) + 1;
        done.count_down();
      });
    }
    done.wait();
    benchmark::DoNotOptimize(results.data());
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(SmallTaskThreadPool)->Name("SmallTask/thread_pool_03")->UseRealTime();

// ---- a CPU-bound map -----------------------------------------------------------------------

// Static initialisers run in the order of their definitions: these rows come here in the table.
[[maybe_unused]] const bool kCpuMapRegistered = cpu_map::register_benchmarks();

}  // namespace

BENCHMARK_MAIN();
