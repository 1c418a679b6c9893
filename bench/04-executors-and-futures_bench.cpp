// Lesson 04 in numbers: what a task with a future costs, and what helping while waiting buys.
//
//   SubmitCost/<runtime>   per_task = time per task that returns an int and whose result the
//                          caller collects, in a round of many tasks on 2 workers:
//                            executor_04a         kata 04a's Executor: submit() -> std::future
//                            packaged_task_pool   lesson 03's pool, each task wrapped in a
//                                                 std::packaged_task behind a shared_ptr (what
//                                                 std::function forces without a move-only queue)
//                            onetbb_task_group    oneTBB's task_group; results written to a
//                                                 slot per task (it has no futures)
//                            std_async            std::async(std::launch::async): a thread each
//   Fib/<runtime>          fib(kFibN) split into tasks down to kFibCutoff, each task waiting
//                          for the task it spawned:
//                            sequential           plain recursion, one thread
//                            nested_wait_04c      kata 04c's Pool of 2: get() on a worker runs
//                                                 queued tasks meanwhile
//                            onetbb_task_group    the same recursion with task_group::wait(),
//                                                 which also runs tasks while it waits
//
// Targets (issue 9): the executor's per_task at most 2x oneTBB's and at least 10x below
// std::async's. The Fib rows show that helping makes the recursion possible on 2 workers at all
// (a blocking pool deadlocks: lessons/04-executors-and-futures/nested_wait.cpp) and what it
// costs against oneTBB. `make bench` runs this with repetitions and draws
// bench/charts/04-executors-and-futures.gp; the lesson's "What the benchmarks say" reads them.
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/task_group.h>

#include <array>
#include <future>
#include <memory>
#include <vector>

#include "../solutions/04a-executor/executor.hpp"        // kata::Executor, the reference
#include "../solutions/04c-nested-wait/nested_wait.hpp"  // kata::Pool with a helping get()
#include "thread_pool.hpp"                               // support::ThreadPool (lesson 03)

namespace {

constexpr int kPoolRound = 1000;   // tasks per timed round on a pool
constexpr int kThreadRound = 100;  // std::async starts a thread per task: fewer per round

benchmark::Counter per_task(int tasks_per_iteration) {
  // Seconds per task: (time / iterations) / tasks_per_iteration.
  return benchmark::Counter(
      static_cast<double>(tasks_per_iteration),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// oneTBB would use every core of the machine. Limit it to 2 threads, the caller included (it
// runs tasks inside task_group::wait()), like the 2 workers of the pools here; on a 2-core
// machine that changes nothing, on a bigger one it keeps the comparison fair.
tbb::global_control& two_tbb_threads() {
  static tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
  return limit;
}

// ---- one task with a result -------------------------------------------------------------

void SubmitCostExecutor(benchmark::State& state) {
  kata::Executor executor(2);
  std::vector<std::future<int>> futures;
  futures.reserve(kPoolRound);
  for (auto _ : state) {
    for (int i = 0; i < kPoolRound; ++i) futures.push_back(executor.submit([i] { return i; }));
    long sum = 0;
    for (std::future<int>& future : futures) sum += future.get();
    benchmark::DoNotOptimize(sum);
    futures.clear();
  }
  state.counters["per_task"] = per_task(kPoolRound);
}
BENCHMARK(SubmitCostExecutor)->Name("SubmitCost/executor_04a")->UseRealTime();

void SubmitCostPackagedTaskOnPool(benchmark::State& state) {
  support::ThreadPool pool(2);
  std::vector<std::future<int>> futures;
  futures.reserve(kPoolRound);
  for (auto _ : state) {
    for (int i = 0; i < kPoolRound; ++i) {
      auto task = std::make_shared<std::packaged_task<int()>>([i] { return i; });
      futures.push_back(task->get_future());
      pool.submit([task] { (*task)(); });
    }
    long sum = 0;
    for (std::future<int>& future : futures) sum += future.get();
    benchmark::DoNotOptimize(sum);
    futures.clear();
  }
  state.counters["per_task"] = per_task(kPoolRound);
}
BENCHMARK(SubmitCostPackagedTaskOnPool)->Name("SubmitCost/packaged_task_pool")->UseRealTime();

void SubmitCostTbbTaskGroup(benchmark::State& state) {
  two_tbb_threads();
  std::vector<int> results(kPoolRound);
  for (auto _ : state) {
    tbb::task_group group;
    for (int i = 0; i < kPoolRound; ++i) group.run([&results, i] { results[i] = i; });
    group.wait();
    long sum = 0;
    for (int r : results) sum += r;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["per_task"] = per_task(kPoolRound);
}
BENCHMARK(SubmitCostTbbTaskGroup)->Name("SubmitCost/onetbb_task_group")->UseRealTime();

void SubmitCostStdAsync(benchmark::State& state) {
  std::vector<std::future<int>> futures;
  futures.reserve(kThreadRound);
  for (auto _ : state) {
    for (int i = 0; i < kThreadRound; ++i)
      futures.push_back(std::async(std::launch::async, [i] { return i; }));
    long sum = 0;
    for (std::future<int>& future : futures) sum += future.get();
    benchmark::DoNotOptimize(sum);
    futures.clear();
  }
  state.counters["per_task"] = per_task(kThreadRound);
}
BENCHMARK(SubmitCostStdAsync)->Name("SubmitCost/std_async")->UseRealTime();

// ---- a recursion whose tasks wait for their own subtasks --------------------------------

constexpr int kFibN = 30;
constexpr int kFibCutoff = 18;  // below this a task computes sequentially: ~ fib(18) calls

[[gnu::noinline]] long fib_sequential(int n) {
  return n < 2 ? n : fib_sequential(n - 1) + fib_sequential(n - 2);
}

// kFibN, hidden from the optimizer: clang computes fib(30) at compile time otherwise.
int fib_n() {
  int n = kFibN;
  benchmark::DoNotOptimize(n);
  return n;
}

long fib_on_pool(kata::Pool& pool, int n) {
  if (n < kFibCutoff) return fib_sequential(n);
  auto first = pool.submit([&pool, n] { return fib_on_pool(pool, n - 1); });
  const long second = fib_on_pool(pool, n - 2);  // this thread takes one half itself
  return first.get() + second;                   // and helps while the other half waits
}

long fib_on_tbb(int n) {
  if (n < kFibCutoff) return fib_sequential(n);
  long first = 0;
  tbb::task_group group;
  group.run([&first, n] { first = fib_on_tbb(n - 1); });
  const long second = fib_on_tbb(n - 2);
  group.wait();
  return first + second;
}

void FibSequential(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(fib_sequential(fib_n()));
}
BENCHMARK(FibSequential)->Name("Fib/sequential")->UseRealTime()->Unit(benchmark::kMillisecond);

void FibNestedWait(benchmark::State& state) {
  kata::Pool pool(2);
  for (auto _ : state) {
    // The recursion starts on a worker, so that every get() in it is a helping one.
    benchmark::DoNotOptimize(pool.submit([&pool] { return fib_on_pool(pool, fib_n()); }).get());
  }
}
BENCHMARK(FibNestedWait)->Name("Fib/nested_wait_04c")->UseRealTime()->Unit(benchmark::kMillisecond);

void FibTbb(benchmark::State& state) {
  two_tbb_threads();
  for (auto _ : state) benchmark::DoNotOptimize(fib_on_tbb(fib_n()));
}
BENCHMARK(FibTbb)->Name("Fib/onetbb_task_group")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
