// Lesson 08's measurements, on 2 OpenMP threads:
//   Schedule/<schedule>   the rows of a Mandelbrot image (256 x 256 points, up to 1,000 steps
//                         each), shared out by `omp parallel for schedule(runtime)` with the
//                         schedule set by omp_set_schedule(). The rows near the real axis cost
//                         many times more than those at the top: imbalanced work.
//                         "1 thread" is the same loop on one thread.
//   Pi/<way>              π by the midpoint rule over 2^19 steps, added up in each of the ways
//                         of the classic progression: one shared sum (a data race: fast and
//                         wrong), a critical section or an atomic per term, a partial sum per
//                         thread in one array (false sharing) or each in its own cache line, and
//                         a reduction. "1 thread" is the plain loop.
// Counters: Schedule's thread0_share is the part of the work (steps of z = z² + c) that thread 0
// did; Pi's error is |result - π|. bench/charts/08-openmp.gp draws both families, each bar with
// its ratio to the first.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "mandelbrot_rows.hpp"

namespace {

constexpr int kThreads = 2;

// ---- Imbalanced work: Mandelbrot rows ------------------------------------------------------

constexpr int kRows = 256;
constexpr int kColumns = 256;
constexpr int kMaxSteps = 1000;

void Schedule(benchmark::State& state, omp_sched_t kind, int chunk, int threads) {
  omp_set_schedule(kind, chunk);
  long by_thread0 = 0;
  long all = 0;
  for (auto _ : state) {
    long total = 0;
    long mine0 = 0;
#pragma omp parallel for num_threads(threads) schedule(runtime) reduction(+ : total, mine0)
    for (int row = 0; row < kRows; ++row) {
      const long steps = support::mandelbrot_row_steps(row, kRows, kColumns, kMaxSteps);
      total += steps;
      if (omp_get_thread_num() == 0) mine0 += steps;
    }
    benchmark::DoNotOptimize(total);
    by_thread0 += mine0;
    all += total;
  }
  state.counters["thread0_share"] = static_cast<double>(by_thread0) / static_cast<double>(all);
}

// ---- π, added up in each way -----------------------------------------------------------------

constexpr long kSteps = 1 << 19;
constexpr double kWidth = 1.0 / kSteps;

double term(long i) {
  const double x = (static_cast<double>(i) + 0.5) * kWidth;
  return 4.0 / (1.0 + x * x);
}

double one_thread() {
  double sum = 0.0;
  for (long i = 0; i < kSteps; ++i) sum += term(i);
  return sum * kWidth;
}

// A data race, on purpose: undefined behaviour, shown for its speed and its wrong answer.
double shared_sum() {
  double sum = 0.0;
#pragma omp parallel for num_threads(kThreads)
  for (long i = 0; i < kSteps; ++i) sum += term(i);
  return sum * kWidth;
}

double critical_per_term() {
  double sum = 0.0;
#pragma omp parallel for num_threads(kThreads)
  for (long i = 0; i < kSteps; ++i) {
    const double t = term(i);
#pragma omp critical
    sum += t;
  }
  return sum * kWidth;
}

double atomic_per_term() {
  double sum = 0.0;
#pragma omp parallel for num_threads(kThreads)
  for (long i = 0; i < kSteps; ++i) {
    const double t = term(i);
#pragma omp atomic
    sum += t;
  }
  return sum * kWidth;
}

// Each thread adds into its own slot: no race, no lock. The slots are relaxed atomics (a load and
// a store, no locked instruction) only so that every addition really goes to memory, as it would
// through a plain array the compiler could not keep in a register.
template <typename Slot>
double partial_sums() {
  alignas(64) Slot slots[kThreads];  // Adjacent: both in one cache line
#pragma omp parallel num_threads(kThreads)
  {
    std::atomic<double>& mine = slots[omp_get_thread_num()].sum;
#pragma omp for
    for (long i = 0; i < kSteps; ++i)
      mine.store(mine.load(std::memory_order_relaxed) + term(i), std::memory_order_relaxed);
  }
  double sum = 0.0;
  for (const Slot& slot : slots) sum += slot.sum.load();
  return sum * kWidth;
}

struct Adjacent {
  std::atomic<double> sum{0.0};  // 8 bytes: both threads' slots share one cache line
};

struct alignas(64) Padded {
  std::atomic<double> sum{0.0};  // a cache line of its own
};

double reduction() {
  double sum = 0.0;
#pragma omp parallel for num_threads(kThreads) reduction(+ : sum)
  for (long i = 0; i < kSteps; ++i) sum += term(i);
  return sum * kWidth;
}

void Pi(benchmark::State& state, double (*way)()) {
  double result = 0.0;
  for (auto _ : state) {
    result = way();
    benchmark::DoNotOptimize(result);
  }
  state.counters["error"] = std::abs(result - std::numbers::pi);
}

BENCHMARK_CAPTURE(Schedule, one, omp_sched_static, 0, 1)->Name("Schedule/1 thread")->UseRealTime();
BENCHMARK_CAPTURE(Schedule, st, omp_sched_static, 0, kThreads)
    ->Name("Schedule/static")
    ->UseRealTime();
BENCHMARK_CAPTURE(Schedule, st1, omp_sched_static, 1, kThreads)
    ->Name("Schedule/static, chunk 1")
    ->UseRealTime();
BENCHMARK_CAPTURE(Schedule, dy1, omp_sched_dynamic, 1, kThreads)
    ->Name("Schedule/dynamic, chunk 1")
    ->UseRealTime();
BENCHMARK_CAPTURE(Schedule, dy16, omp_sched_dynamic, 16, kThreads)
    ->Name("Schedule/dynamic, chunk 16")
    ->UseRealTime();
BENCHMARK_CAPTURE(Schedule, gu, omp_sched_guided, 1, kThreads)
    ->Name("Schedule/guided")
    ->UseRealTime();

BENCHMARK_CAPTURE(Pi, one, one_thread)->Name("Pi/1 thread")->UseRealTime();
BENCHMARK_CAPTURE(Pi, race, shared_sum)->Name("Pi/shared sum (racy)")->UseRealTime();
BENCHMARK_CAPTURE(Pi, critical, critical_per_term)->Name("Pi/critical per term")->UseRealTime();
BENCHMARK_CAPTURE(Pi, atomic, atomic_per_term)->Name("Pi/atomic per term")->UseRealTime();
BENCHMARK_CAPTURE(Pi, adjacent, partial_sums<Adjacent>)
    ->Name("Pi/partial sums, one line")
    ->UseRealTime();
BENCHMARK_CAPTURE(Pi, padded, partial_sums<Padded>)->Name("Pi/partial sums, padded")->UseRealTime();
BENCHMARK_CAPTURE(Pi, reduction, reduction)->Name("Pi/reduction")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
