// Kata 07a · Spread a C library's kernel over oneTBB: parallel_for and parallel_reduce
// Lesson: lessons/07-onetbb/README.md#loops-parallel_for-and-parallel_reduce
//
// A C library's kernel works on a piece of an array, [begin, end), of at most `grainsize` items
// (its scratch buffer holds no more). parallel_apply() and parallel_sum() already cut [0, n) into
// such pieces, but call the kernel on them one after another, on the calling thread. Hand the
// pieces to oneTBB instead: a parallel_for for parallel_apply(), a parallel_reduce for
// parallel_sum(), over a tbb::blocked_range, so that pieces run on both cores at once. Every item
// still belongs to exactly one piece of at most `grainsize` items, and the sum stays exact.
//
// Grade it: make test KATA=07a        Stuck? make hint KATA=07a
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>

#include <cstddef>
#include <functional>

namespace kata {

// Works on the items [begin, end) (numpy's inner loop, say).
using ApplyKernel = std::function<void(std::size_t begin, std::size_t end)>;
// Works on the items [begin, end) and returns their share of a sum.
using SumKernel = std::function<long long(std::size_t begin, std::size_t end)>;

// Calls kernel on pieces that cover [0, n), each item in exactly one piece, each piece of at
// most grainsize (>= 1) items.
inline void parallel_apply(std::size_t n, std::size_t grainsize, const ApplyKernel& kernel) {
  // A blocked_range of more than grainsize items is split in halves; simple_partitioner splits
  // every range that can be split, so no piece holds more than grainsize items (the default
  // auto_partitioner may stop sooner, with larger pieces). Idle threads steal waiting halves.
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, n, grainsize),
      [&](const tbb::blocked_range<std::size_t>& piece) { kernel(piece.begin(), piece.end()); },
      tbb::simple_partitioner{});
}

// Returns the sum of kernel over pieces that cover [0, n) as parallel_apply's do.
inline long long parallel_sum(std::size_t n, std::size_t grainsize, const SumKernel& kernel) {
  // Each thread adds its pieces' shares to a running total of its own, starting from the
  // identity 0; the totals are then added pairwise. Integers: the same sum in any order.
  return tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, n, grainsize), 0LL,
      [&](const tbb::blocked_range<std::size_t>& piece, long long total) {
        return total + kernel(piece.begin(), piece.end());
      },
      std::plus<long long>(), tbb::simple_partitioner{});
}

}  // namespace kata
