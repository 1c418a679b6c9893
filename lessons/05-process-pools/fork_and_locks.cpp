// fork_and_locks: what fork() does to the threads and locks of a process that has several
// threads, shown on this machine.
//
// The parent starts a helper thread that takes a mutex and keeps it for a while (as a logging
// thread, an allocator or a pool's worker might at any moment). While the mutex is held, the
// main thread forks. The child then reports
//   - how many threads it has (/proc/self/task): only the one that called fork() is copied;
//   - whether it can take the mutex: the copy of the mutex says "locked", and the thread that
//     would unlock it does not exist in the child, so it stays locked for good.
// The child gives up after a short wait instead of hanging, and says what it saw.
//
//   fork_and_locks           wait 500 ms for the mutex in the child
//   fork_and_locks --quick   wait 100 ms (for make check)
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <latch>
#include <mutex>
#include <thread>

namespace {

int thread_count() {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const auto patience = std::chrono::milliseconds(quick ? 100 : 500);

  std::timed_mutex log_mutex;  // stands for any lock some thread may hold at the moment of fork
  std::latch holding(1);
  std::latch forked(1);
  std::thread logger([&] {
    std::lock_guard lock(log_mutex);
    holding.count_down();
    forked.wait();  // keeps the mutex until the fork has happened
  });
  holding.wait();

  fmt::print("parent: {} threads; the logger thread holds the mutex; forking now\n",
             thread_count());
  std::fflush(stdout);  // else the child would print the parent's buffered lines again
  const pid_t child = fork();
  if (child == 0) {
    const int threads = thread_count();
    const auto start = std::chrono::steady_clock::now();
    const bool got_it = log_mutex.try_lock_for(patience);
    const double waited =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    fmt::print("child:  {} thread{} (only the one that called fork was copied)\n", threads,
               threads == 1 ? "" : "s");
    if (got_it) {
      fmt::print("child:  took the mutex (it was free at the moment of the fork)\n");
    } else {
      fmt::print(
          "child:  the mutex is still locked after {:.0f} ms, and the thread that holds it does "
          "not exist here:\n        nobody will ever unlock it. A plain lock() would wait "
          "forever.\n",
          waited);
    }
    std::fflush(stdout);
    _exit(got_it ? 1 : 0);
  }
  forked.count_down();
  logger.join();
  int status = 0;
  waitpid(child, &status, 0);
  fmt::print(
      "parent: the logger released its mutex in the parent; the child's copy stayed locked.\n\n"
      "This is why a process that has threads should fork only to exec another program at once,\n"
      "and why Python 3.12 warns when os.fork() runs in a process with several threads.\n");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
