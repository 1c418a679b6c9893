// Lesson 06 in numbers: what one increment of a shared counter costs with each kind of
// synchronisation, and what false sharing costs two threads that share nothing.
//
//   Increment/<kind>/threads:<n>   per_task = time per increment, as each of n threads sees it
//                                  (wall time of a round / increments per thread), all threads
//                                  on one counter:
//                                    atomic           std::atomic<int>::fetch_add
//                                    mutex            std::mutex locked around ++
//                                    unsynchronised   a relaxed load and store (the racy ++ of
//                                                     kata 06a's starter, without its undefined
//                                                     behaviour); loses updates on 2 threads
//   Counters/<layout>/apart:<bytes>  2 threads, each incrementing its own counter (relaxed
//                                  fetch_add, as in kata 06d), the two counters <bytes> apart:
//                                    padded   a cache line (64) or two (128)
//                                    packed   8 bytes: neighbours in a std::vector
//
// Each also reports "cores", the CPU time of the process over the wall time: about 2 when two
// threads really ran side by side (see CoresBusy).
// The chart labels each bar with its ratio to the first bar of its family (atomic on 1 thread;
// padded 64 bytes apart), and lessons/06-shared-state/README.md#what-the-benchmarks-say quotes
// them. `make bench` runs this with repetitions and draws bench/charts/06-shared-state.gp.
#include <benchmark/benchmark.h>
#include <time.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "cache_line.hpp"  // support::kCacheLineSize

namespace {

constexpr long kRound = 1'000'000;  // increments per thread per timed round
// The unsynchronised increment takes well under a nanosecond on one core, so a round of a
// million is over before the second thread has woken from the start barrier: its rounds are
// longer, so that the two threads overlap for most of each.
constexpr long kRaceRound = 20'000'000;

benchmark::Counter per_task(long tasks_per_iteration) {
  // Seconds per increment: (time / iterations) / tasks_per_iteration.
  return benchmark::Counter(
      static_cast<double>(tasks_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Sets the counter "cores": the process's CPU time over the benchmark's wall time, about 2 when
// two threads really ran side by side. On a machine where another program holds a core, two
// threads take turns, collide with nothing, and their figures say little; this shows it.
class CoresBusy {
 public:
  explicit CoresBusy(benchmark::State& state)
      : state_(state), cpu_(process_cpu_seconds()), wall_(std::chrono::steady_clock::now()) {}
  ~CoresBusy() {
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_;
    state_.counters["cores"] = (process_cpu_seconds() - cpu_) / wall.count();
  }
  CoresBusy(const CoresBusy&) = delete;
  CoresBusy& operator=(const CoresBusy&) = delete;

 private:
  benchmark::State& state_;
  double cpu_;
  std::chrono::steady_clock::time_point wall_;
};

// One timed round: `threads` threads, started together, each calling work(t) once.
template <typename Work>
void round_on_threads(int threads, Work work) {
  std::barrier start(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      start.arrive_and_wait();
      work(t);
    });
  }
  for (std::thread& thread : running) thread.join();
}

// ---- Increment: one counter, 1 or 2 threads -------------------------------------------------

std::atomic<int> atomic_counter{0};
std::mutex counter_mutex;
int guarded_counter = 0;
std::atomic<int> racy_counter{0};

void IncrementAtomic(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  CoresBusy cores(state);
  for (auto _ : state) {
    round_on_threads(threads, [](int) {
      for (long i = 0; i < kRound; ++i) atomic_counter.fetch_add(1);
    });
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(IncrementAtomic)
    ->Name("Increment/atomic")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

void IncrementMutex(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  CoresBusy cores(state);
  for (auto _ : state) {
    round_on_threads(threads, [](int) {
      for (long i = 0; i < kRound; ++i) {
        std::lock_guard lock(counter_mutex);
        ++guarded_counter;
      }
    });
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(IncrementMutex)
    ->Name("Increment/mutex")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

void IncrementUnsynchronised(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  long lost = 0;
  CoresBusy cores(state);
  for (auto _ : state) {
    racy_counter = 0;
    round_on_threads(threads, [](int) {
      for (long i = 0; i < kRaceRound; ++i) {
        racy_counter.store(racy_counter.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
      }
    });
    lost += threads * kRaceRound - racy_counter.load();
  }
  state.counters["per_task"] = per_task(kRaceRound);
  // The share of increments lost, averaged over the rounds.
  state.counters["lost"] =
      benchmark::Counter(static_cast<double>(lost) / static_cast<double>(threads * kRaceRound),
                         benchmark::Counter::kAvgIterations);
}
BENCHMARK(IncrementUnsynchronised)
    ->Name("Increment/unsynchronised")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

// ---- Counters: two threads, a counter each, packed or padded ------------------------------

template <std::size_t Apart>
struct alignas(2 * support::kCacheLineSize) TwoCounters {
  std::atomic<long> first{0};
  char gap[Apart - sizeof(std::atomic<long>)];
  std::atomic<long> second{0};
};

template <std::size_t Apart>
void CountersApart(benchmark::State& state) {
  static TwoCounters<Apart> counters;
  CoresBusy cores(state);
  for (auto _ : state) {
    round_on_threads(2, [](int t) {
      std::atomic<long>& mine = t == 0 ? counters.first : counters.second;
      for (long i = 0; i < kRound; ++i) mine.fetch_add(1, std::memory_order_relaxed);
    });
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(CountersApart<support::kCacheLineSize>)->Name("Counters/padded/apart:64")->UseRealTime();
BENCHMARK(CountersApart<2 * support::kCacheLineSize>)
    ->Name("Counters/padded/apart:128")
    ->UseRealTime();

void CountersPacked(benchmark::State& state) {
  std::vector<std::atomic<long>> counters(2);  // kata 06d's starter: neighbours in a vector
  CoresBusy cores(state);
  for (auto _ : state) {
    round_on_threads(2, [&](int t) {
      for (long i = 0; i < kRound; ++i) counters[t].fetch_add(1, std::memory_order_relaxed);
    });
  }
  state.counters["per_task"] = per_task(kRound);
}
BENCHMARK(CountersPacked)->Name("Counters/packed/apart:8")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
