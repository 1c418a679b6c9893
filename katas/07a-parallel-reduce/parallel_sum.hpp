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

#include <algorithm>
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
  // TODO: the pieces run one after another, all on this thread.
  for (std::size_t begin = 0; begin < n; begin += grainsize) {
    kernel(begin, std::min(n, begin + grainsize));
  }
}

// Returns the sum of kernel over pieces that cover [0, n) as parallel_apply's do.
inline long long parallel_sum(std::size_t n, std::size_t grainsize, const SumKernel& kernel) {
  long long total = 0;
  // TODO: the same loop again; each piece's share is added to one running total.
  for (std::size_t begin = 0; begin < n; begin += grainsize) {
    total += kernel(begin, std::min(n, begin + grainsize));
  }
  return total;
}

}  // namespace kata
