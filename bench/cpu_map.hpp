// The CPU-bound map that lessons 03, 05 and 11 time side by side: 20,000 inputs of about 2 µs of
// arithmetic each, in chunks of 2,500 (Python's default chunk size for this map on 2 workers).
// bench/05-process-pools_bench.cpp runs it sequentially, on lesson 03's thread pool and on kata
// 05a's process pool; bench/11-beyond-one-machine_bench.cpp adds 2 MPI ranks (kata 11a's map).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <latch>
#include <string>
#include <vector>

#include "../solutions/05a-process-pool/process_pool.hpp"  // kata::ProcessPool, the reference
#include "thread_pool.hpp"                                 // support::ThreadPool (lesson 03)

namespace cpu_map {

constexpr int kInputs = 20000;
constexpr int kStepsPerInput = 1000;  // about 2 µs of arithmetic per input (lesson 03)
constexpr int kChunk = 2500;

// Input i is the seed i * 7919.
inline std::uint64_t seed_of(int input) { return static_cast<std::uint64_t>(input) * 7919; }

// A xorshift walk: arithmetic the compiler cannot skip or precompute.
[[gnu::noinline]] inline std::uint64_t busy(std::uint64_t seed) {
  std::uint64_t x = seed | 1;
  for (int i = 0; i < kStepsPerInput; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

inline std::string as_bytes(std::uint64_t value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof value);
}

// One task per chunk for a process pool: the chunk's seeds in, its results out, as bytes.
inline const std::vector<std::string>& chunk_inputs() {
  static const std::vector<std::string> chunks = [] {
    std::vector<std::string> out;
    for (int begin = 0; begin < kInputs; begin += kChunk) {
      std::string bytes;
      for (int i = begin; i < begin + kChunk && i < kInputs; ++i) bytes += as_bytes(seed_of(i));
      out.push_back(std::move(bytes));
    }
    return out;
  }();
  return chunks;
}

inline std::string busy_chunk(const std::string& seeds) {
  std::string results(seeds.size(), '\0');
  for (std::size_t at = 0; at + 8 <= seeds.size(); at += 8) {
    std::uint64_t seed = 0;
    std::memcpy(&seed, seeds.data() + at, 8);
    const std::uint64_t r = busy(seed);
    std::memcpy(results.data() + at, &r, 8);
  }
  return results;
}

// The map three ways, each a Google Benchmark body (the bench files name and register them).

inline void Sequential(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<std::uint64_t> results;
    results.reserve(kInputs);
    for (int i = 0; i < kInputs; ++i) results.push_back(busy(seed_of(i)));
    benchmark::DoNotOptimize(results.data());
  }
}

// Lesson 03's pool of 2 threads, one task per chunk.
inline void ThreadPool(benchmark::State& state) {
  support::ThreadPool pool(2);
  std::vector<std::uint64_t> results(kInputs);
  for (auto _ : state) {
    std::latch done((kInputs + kChunk - 1) / kChunk);
    for (int begin = 0; begin < kInputs; begin += kChunk) {
      pool.submit([&results, &done, begin] {
        for (int i = begin; i < begin + kChunk && i < kInputs; ++i) results[i] = busy(seed_of(i));
        done.count_down();
      });
    }
    done.wait();
    benchmark::DoNotOptimize(results.data());
  }
}

// Kata 05a's ProcessPool(2): the same chunks, one task per chunk, results as bytes.
inline void ProcessPool(benchmark::State& state) {
  kata::ProcessPool pool(2, busy_chunk);
  for (auto _ : state) {
    std::vector<std::string> results = pool.map(chunk_inputs());
    benchmark::DoNotOptimize(results.data());
  }
}

// Registers the three runs as CpuMap/sequential, CpuMap/thread_pool_03 and
// CpuMap/process_pool_05a, in that order; a bench file calls it where they belong in its table.
inline bool register_benchmarks() {
  for (auto* b : {benchmark::RegisterBenchmark("CpuMap/sequential", Sequential),
                  benchmark::RegisterBenchmark("CpuMap/thread_pool_03", ThreadPool),
                  benchmark::RegisterBenchmark("CpuMap/process_pool_05a", ProcessPool)})
    b->UseRealTime()->Unit(benchmark::kMillisecond);
  return true;
}

}  // namespace cpu_map
