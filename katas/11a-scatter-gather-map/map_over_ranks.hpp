// Kata 11a · An ordered map over ranks: scatter the inputs, gather the results
// Lesson: lessons/11-beyond-one-machine/README.md#a-map-over-ranks
//
// map_over_ranks() is lesson 03's pool map, with ranks for workers: the root holds the inputs and
// wants f of each, in input order. Right now the root computes every item itself while the other
// ranks return at once, so a second rank adds nothing. Give every rank an even, contiguous share
// of the inputs (the counts differ by at most one), let each apply f to its share, and collect
// the results on the root in input order. Only the root knows how many inputs there are.
//
// Grade it: make test KATA=11a        Stuck? make hint KATA=11a
#pragma once

#include <mpi.h>

#include <span>
#include <vector>

namespace kata {

using Fn = long long (*)(long long);

// Every rank of `comm` calls it with the same f and root. `inputs` is read on the root only
// (the others may pass an empty span). Returns, on the root, f(x) for each input x in input
// order; on the other ranks, an empty vector.
inline std::vector<long long> map_over_ranks(std::span<const long long> inputs, Fn f, int root,
                                             MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::vector<long long> results;
  // TODO: the other ranks have nothing to do; give each of them its share of the inputs.
  if (rank != root) return results;
  for (long long x : inputs) results.push_back(f(x));
  return results;
}

}  // namespace kata
