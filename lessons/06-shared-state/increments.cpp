// increments: what one increment of a shared counter costs, and what skipping the
// synchronisation does to the count, on this machine.
//
// Each row runs `n` increments per thread, on 1 thread and then on 2 threads that increment the
// same counter at the same time, and prints the median time per increment (wall time / n: what
// each thread sees) and how many increments were lost. Lesson 06 (README.md#mutex-or-atomic)
// quotes these figures.
//   - unsynchronised: a load, an add and a store, written with relaxed atomic loads and stores
//     so that this program itself has no undefined behaviour; they compile to the same three
//     instructions as `++x` on a plain int in memory, and lose updates the same way;
//   - plain int, as written: `for (...) ++x;` on a plain int shared by the threads: a data race,
//     undefined behaviour, kept here on purpose to show what the optimiser makes of it;
//   - std::atomic<int>::fetch_add (one `lock xadd` instruction on x86-64);
//   - a std::mutex locked around `++x`.
//
//   increments           measure properly (a few seconds)
//   increments --quick   few and small repetitions (for make check; well under 2 s)
#include <fmt/core.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  double ns_per_increment;
  long lost;
  double cores;  // CPU time of the process / wall time: about 2 when 2 threads really ran
};

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Runs `threads` threads that each call increment() `calls` times, started together; each call
// makes n / calls increments. Returns the time per increment as a thread sees it (the mean of
// the threads' own loop times, divided by n) and how many of the threads * n increments the
// counter misses (`read()` gives the count afterwards).
template <typename Increment, typename Read>
Result run(int threads, long n, long calls, Increment increment, Read read) {
  // The threads wait for each other at a barrier, then each times its own loop: a thread that
  // waits to be scheduled after the barrier does not count against the others.
  const double cpu_before = process_cpu_seconds();
  const auto wall_before = Clock::now();
  std::barrier start(threads);
  std::vector<double> took_ns(static_cast<std::size_t>(threads));
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      start.arrive_and_wait();
      const auto began = Clock::now();
      for (long i = 0; i < calls; ++i) increment();
      took_ns[static_cast<std::size_t>(t)] =
          std::chrono::duration<double, std::nano>(Clock::now() - began).count();
    });
  }
  for (std::thread& thread : running) thread.join();
  const std::chrono::duration<double> wall = Clock::now() - wall_before;
  double sum = 0;
  for (double ns : took_ns) sum += ns;
  return {sum / threads / static_cast<double>(n), threads * n - read(),
          (process_cpu_seconds() - cpu_before) / wall.count()};
}

// The median of `repeats` runs, each on a fresh counter made by `fresh()`, which returns the
// pair (increment, read).
// On 2 threads, only the runs that kept at least 1.6 cores busy count (on a machine where
// another program holds a core, the threads take turns and never collide), unless none did.
template <typename Fresh>
Result median_of(int repeats, int threads, long n, long calls, Fresh fresh) {
  std::vector<Result> all, side_by_side;
  for (int r = 0; r < repeats; ++r) {
    auto [increment, read] = fresh();
    all.push_back(run(threads, n, calls, increment, read));
    if (all.back().cores >= 1.6) side_by_side.push_back(all.back());
  }
  std::vector<Result>& results = threads > 1 && !side_by_side.empty() ? side_by_side : all;
  std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) {
    return a.ns_per_increment < b.ns_per_increment;
  });
  return results[results.size() / 2];
}

// Shared counters, one of each kind; reset before each run.
int plain_counter = 0;
std::atomic<int> relaxed_counter{0};
std::atomic<int> atomic_counter{0};
std::mutex counter_mutex;
int guarded_counter = 0;

// Out of line, so that the loop in run() calls it and the optimiser cannot see the loop and
// the counter together... except for the plain int row, where it is inlined on purpose.
[[gnu::noinline]] void increment_unsynchronised() {
  relaxed_counter.store(relaxed_counter.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
}
[[gnu::noinline]] void increment_atomic() { atomic_counter.fetch_add(1); }
[[gnu::noinline]] void increment_locked() {
  std::lock_guard lock(counter_mutex);
  ++guarded_counter;
}

// The plain-int row: the whole loop where the optimiser can see it, as a learner would write it.
[[gnu::noinline]] void plain_loop(long n) {
  for (long i = 0; i < n; ++i) ++plain_counter;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const long n = quick ? 200'000 : 5'000'000;
  const int repeats = quick ? 1 : 7;

  struct Row {
    std::string what;
    Result one, two;
  };
  std::vector<Row> rows;
  auto measure = [&](const std::string& what, long calls, auto increment, auto reset, auto read) {
    auto fresh = [&] {
      reset();
      return std::pair(increment, read);
    };
    rows.push_back(
        {what, median_of(repeats, 1, n, calls, fresh), median_of(repeats, 2, n, calls, fresh)});
  };
  measure(
      "unsynchronised (load, add, store)", n, increment_unsynchronised, [] { relaxed_counter = 0; },
      [] { return static_cast<long>(relaxed_counter.load()); });
  measure(
      "plain int, as written (a data race)", 1, [n] { plain_loop(n); }, [] { plain_counter = 0; },
      [] { return static_cast<long>(plain_counter); });
  measure(
      "std::atomic<int> fetch_add", n, increment_atomic, [] { atomic_counter = 0; },
      [] { return static_cast<long>(atomic_counter.load()); });
  measure(
      "std::mutex around ++", n, increment_locked, [] { guarded_counter = 0; },
      [] { return static_cast<long>(guarded_counter); });

  fmt::print(
      "One shared counter, {} increments per thread, median of {} run{}{} (on 2 threads: of "
      "those\nwith both threads side by side); {} hardware threads\n\n",
      n, repeats, repeats == 1 ? "" : "s", quick ? " (--quick: rough figures)" : "",
      std::thread::hardware_concurrency());
  fmt::print("{:<38} {:>14} {:>14} {:>22} {:>12}\n", "", "1 thread: ns", "2 threads: ns",
             "2 threads: lost", "cores busy");
  bool crowded = false;
  for (const Row& row : rows) {
    const double lost_percent =
        100.0 * static_cast<double>(row.two.lost) / (2.0 * static_cast<double>(n));
    fmt::print("{:<38} {:>14.2f} {:>14.2f} {:>13} ({:>4.1f}%) {:>12.2f}\n", row.what,
               row.one.ns_per_increment, row.two.ns_per_increment, row.two.lost, lost_percent,
               row.two.cores);
    // Only the rows whose threads never sleep must keep 2 cores busy: a contended mutex may put
    // a waiter to sleep (that is its job), and the plain-int loop may take no time at all.
    const bool never_sleeps =
        row.what.rfind("std::mutex", 0) != 0 && row.two.ns_per_increment > 0.1;
    crowded = crowded || (never_sleeps && row.two.cores < 1.6);
  }
  fmt::print("\n");
  for (const char* line : {
           "ns: time per increment, as each thread sees it (its own loop time / n).",
           "In the plain-int row each thread runs the whole loop in one call. The optimiser may",
           "assume that no other thread touches a plain int, and may turn the loop into one",
           "addition: it then costs next to nothing and loses all or none of a thread's",
           "increments at once. (A data race is undefined behaviour: any result is allowed.)",
           "cores busy: the process's CPU time (user and kernel) / wall time in the 2-thread",
           "run; about 2 when both threads ran side by side the whole time.",
       }) {
    fmt::print("{}\n", line);
  }
  if (crowded && !quick) {
    fmt::print(
        "\nIn some rows not one 2-thread run kept 1.6 cores busy: other programs had a core, so "
        "the\ntwo threads took turns instead of running together. Their figures (and lost "
        "updates) say\nlittle; run again when the machine is quieter.\n");
  }
  return 0;
}
