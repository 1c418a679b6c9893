// Kata 11a · An ordered map over ranks: scatter the inputs, gather the results
// Lesson: lessons/11-beyond-one-machine/README.md#a-map-over-ranks
//
// Three collectives, called by every rank in the same order with the same root: MPI_Bcast tells
// every rank how many inputs there are; from that each rank works out the same counts and
// offsets (contiguous chunks, the first n % size ranks one item more); MPI_Scatterv hands each
// rank its chunk and MPI_Gatherv puts the results back on the root, each chunk at its offset,
// which keeps the input order.
#pragma once

#include <mpi.h>

#include <span>
#include <vector>

namespace kata {

using Fn = long long (*)(long long);

inline std::vector<long long> map_over_ranks(std::span<const long long> inputs, Fn f, int root,
                                             MPI_Comm comm) {
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);

  long long total = rank == root ? static_cast<long long>(inputs.size()) : 0;
  MPI_Bcast(&total, 1, MPI_LONG_LONG, root, comm);
  const int n = static_cast<int>(total);

  std::vector<int> counts(static_cast<std::size_t>(size));
  std::vector<int> offsets(static_cast<std::size_t>(size));
  for (int r = 0, offset = 0; r < size; ++r) {
    counts[static_cast<std::size_t>(r)] = n / size + (r < n % size ? 1 : 0);
    offsets[static_cast<std::size_t>(r)] = offset;
    offset += counts[static_cast<std::size_t>(r)];
  }

  const int mine = counts[static_cast<std::size_t>(rank)];
  std::vector<long long> chunk(static_cast<std::size_t>(mine));
  MPI_Scatterv(inputs.data(), counts.data(), offsets.data(), MPI_LONG_LONG, chunk.data(), mine,
               MPI_LONG_LONG, root, comm);
  for (long long& x : chunk) x = f(x);

  std::vector<long long> results(rank == root ? static_cast<std::size_t>(n) : 0);
  MPI_Gatherv(chunk.data(), mine, MPI_LONG_LONG, results.data(), counts.data(), offsets.data(),
              MPI_LONG_LONG, root, comm);
  return results;
}

}  // namespace kata
