// Kata 11b · A ring exchange that cannot deadlock, whatever the message size
// Lesson: lessons/11-beyond-one-machine/README.md#point-to-point
//
// The send is started without waiting (MPI_Isend), the receive is done, and only then does the
// rank wait for its own send to complete. Every rank reaches its receive whatever the size, so
// every send finds its receiver: eager or rendezvous, nobody waits for good. (MPI_Sendrecv does
// the same in one call when the incoming size is known in advance; here it is not, so the
// receive asks MPI_Probe first.)
#pragma once

#include <mpi.h>

#include <vector>

namespace kata {

inline constexpr int kRingTag = 11;

inline std::vector<char> pass_right(const std::vector<char>& outgoing, MPI_Comm comm) {
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int right = (rank + 1) % size;
  const int left = (rank + size - 1) % size;

  MPI_Request sent;
  MPI_Isend(outgoing.data(), static_cast<int>(outgoing.size()), MPI_CHAR, right, kRingTag, comm,
            &sent);

  MPI_Status status;
  MPI_Probe(left, kRingTag, comm, &status);
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::vector<char> incoming(static_cast<std::size_t>(count));
  MPI_Recv(incoming.data(), count, MPI_CHAR, left, kRingTag, comm, MPI_STATUS_IGNORE);

  // `outgoing` must stay untouched until the send is complete.
  MPI_Wait(&sent, MPI_STATUS_IGNORE);
  return incoming;
}

}  // namespace kata
