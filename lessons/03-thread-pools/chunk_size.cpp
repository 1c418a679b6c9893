// chunk_size: how the chunk size changes a map on a pool of 2 workers, on this machine.
//
// Maps 20,000 small CPU-bound calls (about a quarter of a microsecond each) over a pool of 2
// workers, cutting the inputs into chunks of 1, 4, ... 20,000, and compares each with a plain
// loop. Two workloads:
//   even      every call does the same work;
//   growing   a call's work grows with its input's position (the last inputs cost most),
//             the same total: big chunks then leave one worker with most of the work.
// Lesson 03 (README.md#why-chunk-size-matters) quotes these figures.
//
//   chunk_size           measure properly (a few seconds)
//   chunk_size --quick   fewer repetitions (for make check; well under 2 s)
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <latch>
#include <thread>
#include <vector>

#include "thread_pool.hpp"  // support::ThreadPool: kata 03a's pool, solved

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kInputs = 20000;
constexpr int kAverageSteps = 200;

// `steps` rounds of a xorshift walk: arithmetic the compiler can neither skip nor precompute.
[[gnu::noinline]] std::uint64_t busy(std::uint64_t seed, int steps) {
  std::uint64_t x = seed | 1;
  for (int i = 0; i < steps; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

int even_steps(int) { return kAverageSteps; }
int growing_steps(int i) { return 2 * kAverageSteps * i / kInputs; }  // 0 ... 400, mean 200

// A bare chunked map: one task per chunk of neighbouring inputs; each task writes its own
// results; a latch counts the chunks down. (Kata 03b adds what a real map needs on top.)
template <typename Steps>
void chunked_map(support::ThreadPool& pool, std::vector<std::uint64_t>& out, std::size_t chunk,
                 Steps steps) {
  const std::size_t n = out.size();
  std::latch done(static_cast<std::ptrdiff_t>((n + chunk - 1) / chunk));
  for (std::size_t begin = 0; begin < n; begin += chunk) {
    const std::size_t end = std::min(begin + chunk, n);
    pool.submit([&out, &done, begin, end, steps] {
      for (std::size_t i = begin; i < end; ++i) {
        out[i] = busy(i, steps(static_cast<int>(i)));
      }
      done.count_down();
    });
  }
  done.wait();
}

template <typename Run>
double median_ms(int samples, Run run) {
  run();  // warm up
  std::vector<double> ms;
  for (int s = 0; s < samples; ++s) {
    const auto start = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 3 : 15;
  std::vector<std::uint64_t> out(kInputs);
  support::ThreadPool pool(2);

  auto sequential = [&](auto steps) {
    return median_ms(samples, [&] {
      for (int i = 0; i < kInputs; ++i) out[i] = busy(i, steps(i));
    });
  };
  const double even_alone = sequential(even_steps);
  const double growing_alone = sequential(growing_steps);

  fmt::print("map of {} calls on a pool of 2 workers, median of {} runs{}; {} hardware threads\n",
             kInputs, samples, quick ? " (--quick: rough figures)" : "",
             std::thread::hardware_concurrency());
  fmt::print("a plain loop takes {:.2f} ms (even work) and {:.2f} ms (growing work)\n\n",
             even_alone, growing_alone);
  fmt::print("{:>10} {:>7} {:>12} {:>10} {:>12} {:>10}\n", "chunk size", "tasks", "even ms",
             "speed-up", "growing ms", "speed-up");
  for (std::size_t chunk : {1, 4, 16, 64, 256, 1024, 2500, 10000, 20000}) {
    const double even = median_ms(samples, [&] { chunked_map(pool, out, chunk, even_steps); });
    const double growing =
        median_ms(samples, [&] { chunked_map(pool, out, chunk, growing_steps); });
    fmt::print("{:>10} {:>7} {:>12.2f} {:>9.2f}x {:>12.2f} {:>9.2f}x{}\n", chunk,
               (kInputs + chunk - 1) / chunk, even, even_alone / even, growing,
               growing_alone / growing, chunk == 2500 ? "   <- Python's default here" : "");
  }
  fmt::print(
      "\nTiny chunks pay the pool's cost per task again and again; one chunk per worker (10000) "
      "leaves a worker idle when the work is uneven; one chunk (20000) uses one worker.\n");
  return out[0] == 42 ? 1 : 0;  // use the results, so the work counts as needed
}
