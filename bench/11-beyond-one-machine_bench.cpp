// Lesson 11 in numbers: lesson 03's CPU-bound map (bench/cpu_map.hpp: 20,000 inputs of about
// 2 µs each) on 2 MPI ranks, next to the same map sequential, on lesson 03's thread pool and on
// kata 05a's process pool, all in one table.
//
//   CpuMap/sequential         one thread
//   CpuMap/thread_pool_03     2 threads, chunks of 2,500
//   CpuMap/process_pool_05a   2 forked workers over pipes, the same chunks as bytes
//   CpuMap/mpi_2_ranks_11a    kata 11a's map_over_ranks: MPI_Bcast of the count, MPI_Scatterv
//                             of the inputs, MPI_Gatherv of the results; rank 0 takes part
//
// `make bench` starts every program directly; this one starts itself again under mpirun as 2
// ranks (support/mpi_launch.hpp). Rank 0 runs Google Benchmark (and writes its JSON); rank 1
// waits for a command from rank 0 before each map. It waits without spinning (a look for the
// command every millisecond, asleep in between): a blocking MPI_Recv polls, and would take a
// core from the thread pool's and the process pool's runs. Rank 0 wakes it with the clock
// stopped, so the map's time holds only the map.
#include <benchmark/benchmark.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "../solutions/11a-scatter-gather-map/map_over_ranks.hpp"  // kata::map_over_ranks
#include "cpu_map.hpp"
#include "mpi_launch.hpp"

namespace {

enum Command : int { kQuit = 0, kMap = 1 };
constexpr int kCommandTag = 99;

long long busy_input(long long input) {
  return static_cast<long long>(cpu_map::busy(cpu_map::seed_of(static_cast<int>(input))));
}

void tell_every_worker(int command) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int r = 1; r < size; ++r) MPI_Send(&command, 1, MPI_INT, r, kCommandTag, MPI_COMM_WORLD);
}

// Ranks other than 0: take part in each map rank 0 asks for, until it says quit.
void serve() {
  for (;;) {
    int command = kQuit;
    MPI_Request request;
    MPI_Irecv(&command, 1, MPI_INT, 0, kCommandTag, MPI_COMM_WORLD, &request);
    int arrived = 0;
    while (MPI_Test(&request, &arrived, MPI_STATUS_IGNORE) == MPI_SUCCESS && arrived == 0)
      usleep(1000);
    if (command != kMap) return;
    MPI_Send(&command, 1, MPI_INT, 0, kCommandTag, MPI_COMM_WORLD);  // awake: rank 0 may start
    kata::map_over_ranks({}, busy_input, 0, MPI_COMM_WORLD);
  }
}

void MpiRanks(benchmark::State& state) {
  std::vector<long long> inputs(cpu_map::kInputs);
  for (int i = 0; i < cpu_map::kInputs; ++i) inputs[static_cast<std::size_t>(i)] = i;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (auto _ : state) {
    // Waking the workers is not the map's cost: they sleep up to 1 ms between looks.
    state.PauseTiming();
    tell_every_worker(kMap);
    for (int r = 1; r < size; ++r) {
      int awake = 0;
      MPI_Recv(&awake, 1, MPI_INT, r, kCommandTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    state.ResumeTiming();
    std::vector<long long> results = kata::map_over_ranks(inputs, busy_input, 0, MPI_COMM_WORLD);
    benchmark::DoNotOptimize(results.data());
  }
}

// Static initialisers run in the order of their definitions: these rows come here in the table.
[[maybe_unused]] const bool kCpuMapRegistered = cpu_map::register_benchmarks();
BENCHMARK(MpiRanks)->Name("CpuMap/mpi_2_ranks_11a")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  if (const int code = support::rerun_under_mpirun(argc, argv, 2); code >= 0) return code;
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    tell_every_worker(kQuit);
  } else {
    serve();
  }
  MPI_Finalize();
  return 0;
}
