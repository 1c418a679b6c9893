// Lesson 07 in numbers: one CPU-bound job, run sequentially and by every runtime of the course,
// on all the machine's cores. bench/charts/07-onetbb.gp draws each family as speed-ups over its
// sequential run.
//
//   Balanced/<runtime>     π as the integral of 4 / (1 + x²) over [0, 1], midpoint rule,
//                          kSteps steps: every step costs the same
//   Unbalanced/<runtime>   the Mandelbrot set, row by row, over the upper half of the picture
//                          only: rows near the real axis are mostly inside the set (kMaxIterations
//                          each point), rows near the top escape at once; the lower-numbered half
//                          of the rows holds nearly all the work
//
// <runtime>: sequential; threads (one std::thread per core, each a contiguous block: what one
// writes by hand); pool (lesson 03's support::ThreadPool, one task per chunk of 1/16 of a
// core's share); onetbb (parallel_reduce over a blocked_range, the default auto_partitioner);
// openmp (parallel for with a reduction, libgomp's default schedule); par (std::transform_reduce
// with std::execution::par, which g++'s library runs on oneTBB).
//
// Repetitions run in random order (main says why), so rows come out of order: the chart script
// places them by name. Target (issue): every runtime at least 1.8x faster than sequential on 2
// cores for Balanced.
// lessons/07-onetbb/README.md#what-the-benchmark-says reads the figures.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <complex>
#include <cstddef>
#include <execution>
#include <functional>
#include <latch>
#include <numeric>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "thread_pool.hpp"

namespace {

// ---- the two kernels, as "the value of items [begin, end)" --------------------------------

constexpr long kSteps = 50'000'000;

double pi_share(long begin, long end) {
  const double width = 1.0 / static_cast<double>(kSteps);
  double share = 0;
  for (long step = begin; step < end; ++step) {
    const double x = (static_cast<double>(step) + 0.5) * width;
    share += 4.0 / (1.0 + x * x);
  }
  return share * width;
}

constexpr long kRows = 240;
constexpr long kColumns = 640;
constexpr int kMaxIterations = 2000;

// How many iterations the points of rows [begin, end) take to escape (kMaxIterations inside the
// set). Row 0 lies on the real axis, row kRows - 1 at the top of the picture (imaginary part
// 1.2), where every point escapes within a few iterations.
double mandelbrot_share(long begin, long end) {
  long iterations = 0;
  for (long row = begin; row < end; ++row) {
    const double imaginary = 1.2 * static_cast<double>(row) / static_cast<double>(kRows);
    for (long column = 0; column < kColumns; ++column) {
      const double real = -2.0 + 2.6 * static_cast<double>(column) / static_cast<double>(kColumns);
      double zr = 0;
      double zi = 0;
      int n = 0;
      while (n < kMaxIterations && zr * zr + zi * zi <= 4.0) {
        const double next_zr = zr * zr - zi * zi + real;
        zi = 2.0 * zr * zi + imaginary;
        zr = next_zr;
        ++n;
      }
      iterations += n;
    }
  }
  return static_cast<double>(iterations);
}

struct Kernel {
  long items;
  double (*share)(long begin, long end);
};

const Kernel kBalanced{kSteps, pi_share};
const Kernel kUnbalanced{kRows, mandelbrot_share};

int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// ---- the runtimes ---------------------------------------------------------------------------

double sequential(const Kernel& kernel) { return kernel.share(0, kernel.items); }

// One thread per core, started and joined for the call; thread t takes the t-th contiguous block.
double threads(const Kernel& kernel) {
  const int count = cores();
  std::vector<double> shares(static_cast<std::size_t>(count));
  std::vector<std::thread> workers;
  for (int t = 0; t < count; ++t) {
    workers.emplace_back([&, t] {
      const long begin = kernel.items * t / count;
      const long end = kernel.items * (t + 1) / count;
      shares[static_cast<std::size_t>(t)] = kernel.share(begin, end);
    });
  }
  for (std::thread& worker : workers) worker.join();
  return std::accumulate(shares.begin(), shares.end(), 0.0);
}

// Lesson 03's pool, made once (as oneTBB's and OpenMP's threads are): 16 chunks per core.
double pool(support::ThreadPool& workers, const Kernel& kernel) {
  const long chunks = std::min<long>(kernel.items, 16L * static_cast<long>(workers.size()));
  std::vector<double> shares(static_cast<std::size_t>(chunks));
  std::latch done(chunks);
  for (long c = 0; c < chunks; ++c) {
    workers.submit([&, c] {
      shares[static_cast<std::size_t>(c)] =
          kernel.share(kernel.items * c / chunks, kernel.items * (c + 1) / chunks);
      done.count_down();
    });
  }
  done.wait();
  return std::accumulate(shares.begin(), shares.end(), 0.0);
}

double onetbb(const Kernel& kernel) {
  return tbb::parallel_reduce(
      tbb::blocked_range<long>(0, kernel.items), 0.0,
      [&](const tbb::blocked_range<long>& piece, double total) {
        return total + kernel.share(piece.begin(), piece.end());
      },
      std::plus<double>());
}

// OpenMP shares the chunks out (libgomp's default schedule: static, one contiguous block of
// chunks per thread), each thread sums its own, and the sums are added at the end.
double openmp(const Kernel& kernel) {
  const long chunks = std::min<long>(kernel.items, 16L * cores());
  double total = 0;
#pragma omp parallel for reduction(+ : total)
  for (long c = 0; c < chunks; ++c) {
    total += kernel.share(kernel.items * c / chunks, kernel.items * (c + 1) / chunks);
  }
  return total;
}

// The parallel algorithms want iterators: one index per chunk, 16 chunks per core.
double par(const Kernel& kernel) {
  const long chunks = std::min<long>(kernel.items, 16L * cores());
  std::vector<long> indices(static_cast<std::size_t>(chunks));
  std::iota(indices.begin(), indices.end(), 0L);
  return std::transform_reduce(
      std::execution::par, indices.begin(), indices.end(), 0.0, std::plus<double>(), [&](long c) {
        return kernel.share(kernel.items * c / chunks, kernel.items * (c + 1) / chunks);
      });
}

// ---- the benchmarks -------------------------------------------------------------------------

void Run(benchmark::State& state, const Kernel* kernel, double (*runtime)(const Kernel&)) {
  for (auto _ : state) benchmark::DoNotOptimize(runtime(*kernel));
}

void RunOnPool(benchmark::State& state, const Kernel* kernel) {
  support::ThreadPool workers(static_cast<std::size_t>(cores()));
  for (auto _ : state) benchmark::DoNotOptimize(pool(workers, *kernel));
}

struct Runtime {
  const char* name;
  double (*run)(const Kernel&);  // null: the pool, which is made once per benchmark
};

void register_family(const char* family, const Kernel* kernel) {
  const Runtime runtimes[] = {{"sequential", sequential}, {"threads", threads}, {"pool", nullptr},
                              {"onetbb", onetbb},         {"openmp", openmp},   {"par", par}};
  for (const Runtime& runtime : runtimes) {
    const std::string name = std::string(family) + "/" + runtime.name;
    if (runtime.run == nullptr) {
      benchmark::RegisterBenchmark(name.c_str(), RunOnPool, kernel)->UseRealTime();
    } else {
      benchmark::RegisterBenchmark(name.c_str(), Run, kernel, runtime.run)->UseRealTime();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_family("Balanced", &kBalanced);
  register_family("Unbalanced", &kUnbalanced);
  // Repetitions interleaved at random (unless the command line says otherwise): on a shared
  // machine a burst of other work then slows every runtime a little instead of one a lot. Run
  // after run here, three runtimes in a row once came out no faster than sequential while
  // another program kept a core busy, and the same runtimes were 1.9x a minute later.
  std::vector<char*> args(argv, argv + argc);
  bool interleaving_given = false;
  for (char* arg : args) {
    interleaving_given = interleaving_given || std::string_view(arg).starts_with(
                                                   "--benchmark_enable_random_interleaving");
  }
  char interleave[] = "--benchmark_enable_random_interleaving=true";
  if (!interleaving_given) args.insert(args.begin() + 1, interleave);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
