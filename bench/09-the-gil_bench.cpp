// Lesson 09's measurements as benchmarks, on the toy interpreter of support/interpreter.hpp:
//   CpuBound/<gil>/one_thread    two programs' worth of bytecode (2 x 20,000 units) on one thread
//   CpuBound/<gil>/two_threads   the same work as two programs on two threads
//   Convoy/<gil>/alone           a thread doing 20 I/Os of 100 us, each followed by 1 unit
//   Convoy/<gil>/beside_cpu      the same thread beside a CPU-bound one that runs until it ends
// <gil> is modern (CPython 3.2+), ticks (Python 3.1) or off (no GIL). Convoy times are the I/O
// thread's own time, from its first span to its last (manual time). bench/charts/09-the-gil.gp
// draws both families, each bar with its ratio to the first.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "interpreter.hpp"

namespace {

using namespace std::chrono_literals;
using support::Cpu;
using support::Gil;
using support::GilKind;
using support::Interpreter;
using support::Io;
using support::Program;

constexpr int kUnits = 20000;
constexpr int kIos = 20;

void CpuBound(benchmark::State& state, GilKind kind, int threads) {
  for (auto _ : state) {
    Gil gil(kind);
    Interpreter interpreter(gil);
    if (threads == 1) {
      interpreter.run({{Cpu{kUnits}, Cpu{kUnits}}});
    } else {
      interpreter.run({{Cpu{kUnits}}, {Cpu{kUnits}}});
    }
  }
}

void Convoy(benchmark::State& state, GilKind kind, bool beside_cpu) {
  std::atomic<bool> io_done{false};
  Program io_bound;
  for (int i = 0; i < kIos; ++i) {
    io_bound.push_back(Io{100us, {}});
    io_bound.push_back(Cpu{1});
  }
  io_bound.push_back(Io{0us, [&] { io_done = true; }});
  const Program cpu_bound{Cpu{1 << 30, &io_done}};
  for (auto _ : state) {
    io_done = false;
    Gil gil(kind);
    Interpreter interpreter(gil);
    if (beside_cpu) {
      interpreter.run({io_bound, cpu_bound});
    } else {
      interpreter.run({io_bound});
    }
    auto first = support::TraceClock::time_point::max();
    support::TraceClock::time_point last{};
    for (const auto& span : interpreter.trace().spans()) {
      if (span.thread != 0) continue;
      first = std::min(first, span.start);
      last = std::max(last, span.end);
    }
    state.SetIterationTime(std::chrono::duration<double>(last - first).count());
  }
}

// Real time: the wall time of the whole run is what a user waits for. Convoy: the I/O thread's
// own time, set by the benchmark (manual time), 5 runs of 20 I/Os per repetition.
BENCHMARK_CAPTURE(CpuBound, m1, GilKind::Modern, 1)
    ->Name("CpuBound/3.2+ GIL, 1 thread")
    ->UseRealTime();
BENCHMARK_CAPTURE(CpuBound, m2, GilKind::Modern, 2)
    ->Name("CpuBound/3.2+ GIL, 2 threads")
    ->UseRealTime();
BENCHMARK_CAPTURE(CpuBound, t1, GilKind::Ticks, 1)
    ->Name("CpuBound/3.1 GIL, 1 thread")
    ->UseRealTime();
BENCHMARK_CAPTURE(CpuBound, t2, GilKind::Ticks, 2)
    ->Name("CpuBound/3.1 GIL, 2 threads")
    ->UseRealTime();
BENCHMARK_CAPTURE(CpuBound, o1, GilKind::Off, 1)->Name("CpuBound/no GIL, 1 thread")->UseRealTime();
BENCHMARK_CAPTURE(CpuBound, o2, GilKind::Off, 2)->Name("CpuBound/no GIL, 2 threads")->UseRealTime();
BENCHMARK_CAPTURE(Convoy, ma, GilKind::Modern, false)
    ->Name("Convoy/3.2+ GIL, alone")
    ->UseManualTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(Convoy, mb, GilKind::Modern, true)
    ->Name("Convoy/3.2+ GIL, beside a CPU thread")
    ->UseManualTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(Convoy, ta, GilKind::Ticks, false)
    ->Name("Convoy/3.1 GIL, alone")
    ->UseManualTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(Convoy, tb, GilKind::Ticks, true)
    ->Name("Convoy/3.1 GIL, beside a CPU thread")
    ->UseManualTime()
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
