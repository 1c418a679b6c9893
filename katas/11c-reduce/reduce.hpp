// Kata 11c · Reduce: one sum from every rank's share, exact for integers
// Lesson: lessons/11-beyond-one-machine/README.md#collectives
//
// Every rank holds a share of the numbers (`local`); the sum of all of them is wanted. Right
// now each rank adds up only its own share and returns that: rank 0 never hears of rank 1's
// numbers. Combine the partial sums with one collective: on `root` only (sum_on_root), then on
// every rank (sum_everywhere). The total may need more than 53 bits: it must equal the
// sequential sum exactly, so keep it an integer all the way.
//
// Grade it: make test KATA=11c        Stuck? make hint KATA=11c
#pragma once

#include <mpi.h>

#include <span>

namespace kata {

// The sum of every rank's `local` numbers, returned on rank `root`. Every rank of `comm` calls
// it (with its own share); what other ranks return is not used.
inline long long sum_on_root(std::span<const int> local, int root, MPI_Comm comm) {
  long long partial = 0;
  for (int x : local) partial += x;
  // TODO: this is only this rank's share; combine the partial sums of all ranks on `root`.
  (void)root;
  (void)comm;
  return partial;
}

// The same sum, returned on every rank of `comm`.
inline long long sum_everywhere(std::span<const int> local, MPI_Comm comm) {
  // TODO: every rank needs the total, not only rank 0.
  return sum_on_root(local, 0, comm);
}

}  // namespace kata
