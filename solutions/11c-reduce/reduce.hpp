// Kata 11c · Reduce: one sum from every rank's share, exact for integers
// Lesson: lessons/11-beyond-one-machine/README.md#collectives
//
// Each rank adds up its own share, then one collective adds the partial sums: MPI_Reduce leaves
// the total on the root, MPI_Allreduce on every rank. The type is MPI_LONG_LONG on both sides:
// a double holds integers exactly only up to 2^53, and an int overflows long before.
#pragma once

#include <mpi.h>

#include <span>

namespace kata {

inline long long partial_sum(std::span<const int> local) {
  long long partial = 0;
  for (int x : local) partial += x;
  return partial;
}

inline long long sum_on_root(std::span<const int> local, int root, MPI_Comm comm) {
  const long long partial = partial_sum(local);
  long long total = 0;
  MPI_Reduce(&partial, &total, 1, MPI_LONG_LONG, MPI_SUM, root, comm);
  return total;
}

inline long long sum_everywhere(std::span<const int> local, MPI_Comm comm) {
  const long long partial = partial_sum(local);
  long long total = 0;
  MPI_Allreduce(&partial, &total, 1, MPI_LONG_LONG, MPI_SUM, comm);
  return total;
}

}  // namespace kata
