// Lesson 11 demo: a message between two MPI ranks next to lesson 02's pipe round trip, what a
// large message costs, where the eager limit lies, and what starting two ranks costs.
//
// Started directly (make lesson N=11, make check's --quick run) it first measures the pipe
// round trip between two processes of its own, then starts itself again under mpirun as two
// ranks (support/mpi_launch.hpp) to measure MPI; rank 0 prints the table.
//
//   pipe round trip        1 byte to a forked child and back, as lesson 02's process_cost
//   MPI round trip         1 byte rank 0 -> rank 1 -> rank 0, MPI_Send/MPI_Recv (shared memory)
//   MPI 64 KiB round trip  the same with 64 KiB each way
//   MPI bandwidth          4 MiB one way, then a 1-byte answer
//   eager limit            the largest MPI_Send that completes while its receiver is in MPI
//                          but has not started the matching receive (kata 11b's situation)
//   mpirun -np 2           from starting mpirun until both ranks are past MPI_Init
#include <fmt/core.h>
#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mpi_launch.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Microseconds per round trip of one byte through two pipes to a forked child (lesson 02).
double pipe_round_trip_us(int trips, int batches) {
  int to_child[2];
  int to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) return -1;
  const pid_t child = fork();
  if (child == 0) {
    close(to_child[1]);  // else its own write end keeps the read below from ever seeing EOF
    close(to_parent[0]);
    char byte = 0;
    while (read(to_child[0], &byte, 1) == 1)
      if (write(to_parent[1], &byte, 1) != 1) break;
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  std::vector<double> per_trip;
  char byte = 'x';
  for (int b = 0; b < batches; ++b) {
    const auto start = Clock::now();
    for (int i = 0; i < trips; ++i)
      if (write(to_child[1], &byte, 1) != 1 || read(to_parent[0], &byte, 1) != 1) return -1;
    per_trip.push_back(seconds_since(start) * 1e6 / trips);
  }
  close(to_child[1]);
  close(to_parent[0]);
  waitpid(child, nullptr, 0);
  return median(per_trip);
}

// Microseconds per round trip of `bytes` bytes between ranks 0 and 1 (median of batches).
double mpi_round_trip_us(int rank, std::size_t bytes, int trips, int batches) {
  std::vector<char> buffer(std::max<std::size_t>(bytes, 1));
  const int count = static_cast<int>(bytes);
  std::vector<double> per_trip;
  for (int b = 0; b < batches; ++b) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = Clock::now();
    for (int i = 0; i < trips; ++i) {
      if (rank == 0) {
        MPI_Send(buffer.data(), count, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(buffer.data(), count, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      } else if (rank == 1) {
        MPI_Recv(buffer.data(), count, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(buffer.data(), count, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
      }
    }
    per_trip.push_back(seconds_since(start) * 1e6 / trips);
  }
  return median(per_trip);
}

// GB/s of `bytes` sent from rank 0 to rank 1, each message answered by one byte.
double mpi_bandwidth_gbs(int rank, std::size_t bytes, int messages) {
  std::vector<char> buffer(bytes);
  char ack = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = Clock::now();
  for (int i = 0; i < messages; ++i) {
    if (rank == 0) {
      MPI_Send(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(&ack, 1, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 0, 0, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
      MPI_Send(&ack, 1, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  }
  return static_cast<double>(bytes) * messages / seconds_since(start) / 1e9;
}

// Whether an MPI_Send of `bytes` completes while its receiver is busy in MPI but has not
// started the matching receive: 11b's situation. Rank 0 sends the message (tag 1), then a
// "sent" note (tag 2); rank 1 waits up to `patience` for the note alone. If the note comes, the
// send had completed without its receive: eager (copied out). If not, the send is waiting for
// its receive (rendezvous); rank 1 then receives the message, which frees rank 0.
bool sent_eagerly(int rank, std::size_t bytes, std::chrono::milliseconds patience) {
  std::vector<char> buffer(bytes);
  char note = 0;
  int eager = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    MPI_Send(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 1, 1, MPI_COMM_WORLD);
    MPI_Send(&note, 1, MPI_CHAR, 1, 2, MPI_COMM_WORLD);
  } else if (rank == 1) {
    MPI_Request noted;
    MPI_Irecv(&note, 1, MPI_CHAR, 0, 2, MPI_COMM_WORLD, &noted);
    const auto give_up = Clock::now() + patience;
    while (eager == 0 && Clock::now() < give_up) MPI_Test(&noted, &eager, MPI_STATUS_IGNORE);
    MPI_Recv(buffer.data(), static_cast<int>(bytes), MPI_CHAR, 0, 1, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    if (eager == 0) MPI_Wait(&noted, MPI_STATUS_IGNORE);
  }
  MPI_Bcast(&eager, 1, MPI_INT, 1, MPI_COMM_WORLD);
  return eager != 0;
}

// The largest message size sent eagerly, by bisection between 1 byte and 1 MiB.
std::size_t eager_limit(int rank, std::chrono::milliseconds nap) {
  std::size_t eager = 1;
  std::size_t rendezvous = 1 << 20;
  if (sent_eagerly(rank, rendezvous, nap)) return rendezvous;
  while (rendezvous - eager > 1) {
    const std::size_t middle = eager + (rendezvous - eager) / 2;
    (sent_eagerly(rank, middle, nap) ? eager : rendezvous) = middle;
  }
  return eager;
}

int run_ranks(int argc, char** argv, bool quick, double pipe_us, long long started_ns) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Barrier(MPI_COMM_WORLD);
  // steady_clock is CLOCK_MONOTONIC: one clock for every process of the machine.
  const double startup_ms = (Clock::now().time_since_epoch().count() - started_ns) / 1e6;
  const int batches = quick ? 3 : 7;
  // --quick stays short on a busy machine too, where a polling rank may wait ~1 ms a message.
  const double small = mpi_round_trip_us(rank, 1, quick ? 300 : 20000, batches);
  const double large = mpi_round_trip_us(rank, 64 * 1024, quick ? 30 : 2000, batches);
  const double bandwidth = mpi_bandwidth_gbs(rank, 4 << 20, quick ? 4 : 200);
  const std::size_t limit = eager_limit(rank, std::chrono::milliseconds(quick ? 20 : 50));
  if (rank == 0) {
    fmt::print("{} ranks of this machine, shared memory (Open MPI's vader transport)\n\n", size);
    fmt::print("| what | median |\n|---|---|\n");
    fmt::print("| pipe round trip, 1 byte, 2 processes (lesson 02) | {:.1f} µs |\n", pipe_us);
    fmt::print("| MPI round trip, 1 byte, MPI_Send/MPI_Recv | {:.1f} µs |\n", small);
    fmt::print("| MPI round trip, 64 KiB each way | {:.1f} µs |\n", large);
    fmt::print("| MPI bandwidth, 4 MiB messages | {:.1f} GB/s |\n", bandwidth);
    fmt::print(
        "| eager limit: the largest MPI_Send that completes before its receive starts | {} bytes "
        "|\n",
        limit);
    fmt::print("| mpirun -np 2, from its start until both ranks are past MPI_Init | {:.0f} ms |\n",
               startup_ms);
    std::fflush(stdout);
  }
  MPI_Finalize();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  double pipe_us = -1;
  long long started_ns = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strncmp(argv[i], "--pipe-us=", 10) == 0) pipe_us = std::atof(argv[i] + 10);
    if (std::strncmp(argv[i], "--started-ns=", 13) == 0) started_ns = std::atoll(argv[i] + 13);
  }
  if (support::started_by_mpirun()) return run_ranks(argc, argv, quick, pipe_us, started_ns);

  pipe_us = pipe_round_trip_us(quick ? 2000 : 20000, quick ? 3 : 7);
  std::vector<std::string> args(argv, argv + argc);
  args.push_back(fmt::format("--pipe-us={:.2f}", pipe_us));
  args.push_back(fmt::format("--started-ns={}", Clock::now().time_since_epoch().count()));
  std::vector<char*> with_pipe;
  for (auto& a : args) with_pipe.push_back(a.data());
  return support::rerun_under_mpirun(static_cast<int>(with_pipe.size()), with_pipe.data(), 2);
}
