// Lesson 01 in numbers: starting a thread against calling a function.
// Run with make bench; the lesson's own demo (lessons/01-threads/thread_cost.cpp) prints the
// same comparison as a small table.
#include <benchmark/benchmark.h>

#include <future>
#include <thread>

namespace {

[[gnu::noinline]] int add_one(int x) { return x + 1; }

// For scale: a call the compiler may not inline or fold away.
void BM_FunctionCall(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    x = add_one(x);
  }
  benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_FunctionCall);

// A new OS thread that runs an empty function, then join: the price of one
// Thread(target=...).start() + join() without the work.
void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) std::thread([] {}).join();
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

// The same through std::async: a new thread plus the shared state that carries the result.
void BM_AsyncGet(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::async(std::launch::async, [] { return 1; }).get());
  }
}
BENCHMARK(BM_AsyncGet)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
