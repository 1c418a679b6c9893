// Lesson 10's claim in numbers: what one incref and decref (a pair, as a Python line makes them
// on the objects it touches) costs with each kind of reference count.
//   Refcount/plain, 1 thread             a plain long in memory: CPython with a GIL, and the
//                                        owner's local count under biased counting
//   Refcount/atomic, 1 thread            an atomic fetch_add and fetch_sub that no other thread
//                                        touches: every object's count atomic, used by the one
//                                        thread that made it (the common case)
//   Refcount/atomic, 2 threads, 1 object both threads on one atomic count: its cache line goes
//                                        back and forth between the cores
//   Refcount/atomic, 2 threads, 1 object each   the same atomics, each thread on its own count:
//                                        what the atomic costs when no line moves
//   Refcount/plain, 2 threads, 1 object each     biased counting when each thread uses the
//                                        objects it made: no atomic, no line shared
// An iteration is kPairs pairs, on each thread. Google Benchmark divides a run's wall time by the
// iterations of all its threads together, so for 2 threads the time it prints is half of what
// each thread spent on an iteration: the lesson multiplies it by the threads to give the time per
// pair as each thread sees it. "cpu_time" is the whole process's CPU time
// (MeasureProcessCPUTime): about twice the real time when two threads really ran side by side.
// lessons/10-beyond-the-gil/README.md#why-not-an-atomic-count-on-every-object quotes the figures.
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstddef>

#include "cache_line.hpp"  // support::kCacheLineSize

namespace {

constexpr long kPairs = 1000;  // incref/decref pairs per iteration

// A reference count alone on its cache line.
struct alignas(support::kCacheLineSize) Count {
  long plain = 1;
  std::atomic<long> atomic{1};
};

std::array<Count, 2> objects;  // one per thread

void Plain(benchmark::State& state) {
  Count& object = objects[static_cast<std::size_t>(state.thread_index())];
  for (auto _ : state) {
    for (long i = 0; i < kPairs; ++i) {
      ++object.plain;
      benchmark::DoNotOptimize(object.plain);  // kept in memory, not folded away
      --object.plain;
      benchmark::DoNotOptimize(object.plain);
    }
  }
}

// Every thread of the benchmark on one count, or (each_its_own) each thread on its own.
void Atomic(benchmark::State& state, bool each_its_own) {
  Count& object = objects[each_its_own ? static_cast<std::size_t>(state.thread_index()) : 0];
  for (auto _ : state) {
    for (long i = 0; i < kPairs; ++i) {
      object.atomic.fetch_add(1, std::memory_order_relaxed);
      object.atomic.fetch_sub(1, std::memory_order_acq_rel);  // a decref may free: acquire too
    }
  }
}

BENCHMARK(Plain)->Name("Refcount/plain, 1 thread")->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(Atomic, one, false)
    ->Name("Refcount/atomic, 1 thread")
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(Atomic, shared, false)
    ->Name("Refcount/atomic, 2 threads, 1 object")
    ->Threads(2)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK_CAPTURE(Atomic, own, true)
    ->Name("Refcount/atomic, 2 threads, 1 object each")
    ->Threads(2)
    ->UseRealTime()
    ->MeasureProcessCPUTime();
BENCHMARK(Plain)
    ->Name("Refcount/plain, 2 threads, 1 object each")
    ->Threads(2)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
