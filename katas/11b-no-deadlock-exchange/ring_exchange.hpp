// Kata 11b · A ring exchange that cannot deadlock, whatever the message size
// Lesson: lessons/11-beyond-one-machine/README.md#point-to-point
//
// pass_right() sends this rank's message to the next rank of the ring and returns the one the
// previous rank sent. Every rank sends first, then receives. With small messages that works:
// MPI copies them out eagerly and MPI_Send returns at once. Above the eager limit (about 4 KB
// here) a send waits for the matching receive, and every rank waits in its send for a receive
// that nobody has started yet. Make the exchange work for messages of any size.
//
// Grade it: make test KATA=11b        Stuck? make hint KATA=11b
#pragma once

#include <mpi.h>

#include <vector>

namespace kata {

inline constexpr int kRingTag = 11;

// Every rank of `comm` calls it with its own message (any size, possibly empty): rank r's
// `outgoing` goes to rank r + 1 (the last rank's to rank 0), and rank r returns what rank r - 1
// (rank 0: the last rank) sent.
inline std::vector<char> pass_right(const std::vector<char>& outgoing, MPI_Comm comm) {
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int right = (rank + 1) % size;
  const int left = (rank + size - 1) % size;

  // TODO: this send returns only once `right` has started its receive, when the message is large.
  MPI_Send(outgoing.data(), static_cast<int>(outgoing.size()), MPI_CHAR, right, kRingTag, comm);

  // The size of the message from `left`, then the message itself.
  MPI_Status status;
  MPI_Probe(left, kRingTag, comm, &status);
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::vector<char> incoming(static_cast<std::size_t>(count));
  MPI_Recv(incoming.data(), count, MPI_CHAR, left, kRingTag, comm, MPI_STATUS_IGNORE);
  return incoming;
}

}  // namespace kata
