// process_cost: what does a child process cost, next to a thread, on this machine?
//
// Measures the median time of
//   - fork() a child that calls _exit(0) at once, then waitpid() for it,
//   - create a std::thread that runs an empty function, then join it,
//   - a pipe round trip: one byte to a child and one byte back,
//   - fork + waitpid again while the parent holds more and more memory (every page touched),
//     once with a child that exits at once and once with a child that writes every page
//     (copy-on-write then copies them all),
// and prints them as tables. Lesson 02 (README.md#what-a-process-costs) quotes these figures.
//
//   process_cost           measure properly (a few seconds)
//   process_cost --quick   few repetitions, smaller sizes (for make check; well under 2 s)
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMiB = 1024 * 1024;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// Times `once()` `samples` times after `warm_up` untimed runs; returns the median in µs.
template <typename Fn>
double median_us(int samples, Fn once, int warm_up = 3) {
  for (int i = 0; i < warm_up; ++i) once();
  std::vector<double> us;
  for (int s = 0; s < samples; ++s) {
    const auto start = Clock::now();
    once();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return median(us);
}

void wait_for(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) die("waitpid");
}

// A child that ends at once. _exit, not exit: see README.md#leave-with-_exit.
void fork_and_wait() {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) _exit(0);
  wait_for(pid);
}

// A child that writes one byte into every page of `memory`: each write makes the kernel copy
// that page for the child (copy-on-write), so this costs as much as copying it all.
void fork_write_all_and_wait(char* memory, std::size_t size) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    for (std::size_t at = 0; at < size; at += 4096) memory[at] = 2;
    _exit(0);
  }
  wait_for(pid);
}

// Round trips of one byte between this process and an echoing child, over two pipes.
double pipe_round_trip_us(int samples) {
  int to_child[2];
  int to_parent[2];
  if (pipe(to_child) != 0 || pipe(to_parent) != 0) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    char byte;
    while (read(to_child[0], &byte, 1) == 1) {
      if (write(to_parent[1], &byte, 1) != 1) _exit(1);
    }
    _exit(0);  // end of file: the parent closed its write end
  }
  close(to_child[0]);
  close(to_parent[1]);
  double us = median_us(samples, [&] {
    char byte = 'x';
    if (write(to_child[1], &byte, 1) != 1 || read(to_parent[0], &byte, 1) != 1) die("ping");
  });
  close(to_child[1]);  // the child sees end of file and leaves
  close(to_parent[0]);
  wait_for(pid);
  return us;
}

// How many bytes a pipe holds before write() blocks: fill one without blocking until it is full.
std::size_t pipe_capacity() {
  int ends[2];
  if (pipe(ends) != 0) die("pipe");
  fcntl(ends[1], F_SETFL, O_NONBLOCK);
  std::vector<char> chunk(4096, 'x');
  std::size_t total = 0;
  for (;;) {
    ssize_t n = write(ends[1], chunk.data(), chunk.size());
    if (n <= 0) break;  // EAGAIN: full
    total += static_cast<std::size_t>(n);
  }
  close(ends[0]);
  close(ends[1]);
  return total;
}

std::string transparent_huge_pages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string setting;
  std::getline(in, setting);
  return setting.empty() ? "unknown" : setting;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 50 : 1000;

  const double fork_us = median_us(samples, fork_and_wait);
  const double thread_us = median_us(samples, [] { std::thread([] {}).join(); });
  const double pipe_us = pipe_round_trip_us(quick ? 500 : 20000);

  fmt::print("A child process next to a thread, {} samples each{}; {} hardware threads\n\n",
             samples, quick ? " (--quick: rough figures)" : "",
             std::thread::hardware_concurrency());
  fmt::print("{:<44} {:>12}\n", "", "median µs");
  fmt::print("{:<44} {:>12.1f}\n", "fork() + waitpid() (child does _exit(0))", fork_us);
  fmt::print("{:<44} {:>12.1f}\n", "std::thread create + join (empty function)", thread_us);
  fmt::print("{:<44} {:>12.1f}\n", "pipe round trip (1 byte there and back)", pipe_us);
  fmt::print("\nA process costs {:.1f}x a thread to start and finish.\n", fork_us / thread_us);
  fmt::print("A pipe holds {} KiB before a writer blocks.\n\n", pipe_capacity() / 1024);

  // fork copies the parent's page tables (not its pages): the bigger the parent, the slower.
  const std::vector<std::size_t> sizes_mib =
      quick ? std::vector<std::size_t>{0, 16, 64} : std::vector<std::size_t>{0, 64, 512};
  fmt::print(
      "fork() + waitpid() as the parent's memory grows (all of it touched);\n"
      "transparent huge pages: {}\n\n",
      transparent_huge_pages());
  fmt::print("{:>16} {:>22} {:>28}\n", "parent memory", "child exits at once",
             "child writes every page");
  for (std::size_t mib : sizes_mib) {
    const std::size_t size = mib * kMiB;
    char* memory = nullptr;
    if (size > 0) {
      void* mapped =
          mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapped == MAP_FAILED) die("mmap");
      memory = static_cast<char*>(mapped);
      std::memset(memory, 1, size);  // touch every page so that it really exists
    }
    // Fewer samples for the big sizes: each one takes long enough to be measured well.
    const int fork_samples = quick ? 10 : (mib >= 512 ? 10 : 50);
    const int write_samples = quick ? 3 : (mib >= 512 ? 3 : 5);
    const double exits_us = median_us(fork_samples, fork_and_wait, 1);
    const double writes_us = median_us(
        write_samples, [&] { fork_write_all_and_wait(memory, size); }, 1);
    fmt::print("{:>12} MiB {:>19.2f} ms {:>25.1f} ms\n", mib, exits_us / 1000, writes_us / 1000);
    if (memory != nullptr) munmap(memory, size);
  }
  return 0;
}
