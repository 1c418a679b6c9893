// Lesson 02 in numbers: starting a process against starting a thread, and a pipe round trip.
// Run with make bench; the lesson's demo (lessons/02-processes/process_cost.cpp) prints the
// same comparison as a small table, plus what fork costs as the parent's memory grows.
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

void fork_and_wait() {
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
}

// One child process that ends at once, then waitpid: the price of Process.start() + join()
// with the "fork" start method, without the work.
void BM_ForkWaitpid(benchmark::State& state) {
  for (auto _ : state) fork_and_wait();
}
BENCHMARK(BM_ForkWaitpid)->UseRealTime();

// The same with a thread, for comparison.
void BM_ThreadCreateJoin(benchmark::State& state) {
  for (auto _ : state) std::thread([] {}).join();
}
BENCHMARK(BM_ThreadCreateJoin)->UseRealTime();

// fork + waitpid while the parent holds state.range(0) MiB, every page touched: fork copies
// the page tables, so its price grows with the parent's memory.
void BM_ForkWaitpidWithParentMemory(benchmark::State& state) {
  const std::size_t size = static_cast<std::size_t>(state.range(0)) * 1024 * 1024;
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) std::abort();
  std::memset(memory, 1, size);
  for (auto _ : state) fork_and_wait();
  munmap(memory, size);
}
BENCHMARK(BM_ForkWaitpidWithParentMemory)
    ->Arg(64)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// One byte to an echoing child and back, over two pipes.
void BM_PipeRoundTrip(benchmark::State& state) {
  int to_child[2];
  int to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    char byte;
    while (read(to_child[0], &byte, 1) == 1) {
      if (write(to_parent[1], &byte, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  char byte = 'x';
  for (auto _ : state) {
    if (write(to_child[1], &byte, 1) != 1 || read(to_parent[0], &byte, 1) != 1) std::abort();
  }
  close(to_child[1]);
  close(to_parent[0]);
  waitpid(pid, nullptr, 0);
}
BENCHMARK(BM_PipeRoundTrip)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
