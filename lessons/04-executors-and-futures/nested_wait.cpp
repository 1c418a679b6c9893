// nested_wait: a task that waits for tasks of its own pool, on a pool whose waiting is plain
// blocking (std::future::get). Shows, on this machine, at which depth of recursion such a pool
// gets stuck for good, and that more workers only move that depth.
//
// Each run builds a complete binary tree of tasks of the given depth: a task at depth d > 0
// submits its two children to the same pool and blocks in get() until both have answered; a
// leaf returns 1. The root's answer is the number of leaves, 2^depth. A watchdog waits for the
// root; when it has not answered after a generous wait, the run is reported as stuck, with how
// many workers sat in get() and how many tasks sat in the queue behind them.
//
//   nested_wait           workers 1, 2 and 4, depths 0..5
//   nested_wait --quick   the same with a shorter watchdog (for make check; well under 2 s)
//
// A stuck pool can never be joined: its workers wait forever. The demo leaks those pools on
// purpose and ends with std::_Exit, which does not run destructors (a join there would hang).
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>

#include "thread_pool.hpp"  // support::ThreadPool: kata 03a's pool, solved

namespace {

struct Counters {
  std::atomic<int> started{0};  // tasks a worker has begun
  std::atomic<int> waiting{0};  // tasks blocked in get() right now
  std::atomic<int> submitted{0};
};

// Runs on a worker: counts the leaves below it by asking the pool for its two halves.
int count_leaves(support::ThreadPool& pool, Counters& counters, int depth) {
  counters.started.fetch_add(1);
  if (depth == 0) return 1;
  std::future<int> halves[2];
  for (auto& half : halves) {
    auto task = std::make_shared<std::packaged_task<int()>>(
        [&pool, &counters, depth] { return count_leaves(pool, counters, depth - 1); });
    half = task->get_future();
    counters.submitted.fetch_add(1);
    pool.submit([task] { (*task)(); });
  }
  counters.waiting.fetch_add(1);
  const int leaves = halves[0].get() + halves[1].get();  // blocks this worker meanwhile
  counters.waiting.fetch_sub(1);
  return leaves;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  // Long enough for a tree of 63 tasks on a loaded machine; a stuck pool never answers at all.
  const auto watchdog = std::chrono::milliseconds(quick ? 150 : 1000);

  fmt::print("A task at depth d > 0 submits two subtasks to its own pool and blocks in get().\n");
  fmt::print("{:>8} {:>6}  {}\n", "workers", "depth", "outcome");
  for (int workers : {1, 2, 4}) {
    for (int depth = 0; depth <= 5; ++depth) {
      // Leaked on purpose when stuck: see the top of the file.
      auto* pool = new support::ThreadPool(static_cast<std::size_t>(workers));
      auto* counters = new Counters;
      auto root = std::make_shared<std::packaged_task<int()>>(
          [pool, counters, depth] { return count_leaves(*pool, *counters, depth); });
      std::future<int> answer = root->get_future();
      counters->submitted.fetch_add(1);
      pool->submit([root] { (*root)(); });
      if (answer.wait_for(watchdog) == std::future_status::ready) {
        fmt::print("{:>8} {:>6}  finished: {} leaves counted by {} tasks\n", workers, depth,
                   answer.get(), counters->submitted.load());
        delete pool;  // every task has ended: closing and joining is safe
        delete counters;
        continue;
      }
      fmt::print(
          "{:>8} {:>6}  STUCK: {} of {} workers wait in get() for {} tasks queued behind "
          "them\n",
          workers, depth, counters->waiting.load(), workers,
          counters->submitted.load() - counters->started.load());
      break;  // deeper trees of this size get stuck too
    }
  }
  fmt::print(
      "\nA worker that waits in get() cannot run the task it waits for. Once as many tasks wait "
      "as\nthe pool has workers, nobody is left to run the queue, and nothing ever moves again. "
      "More\nworkers only postpone it: compare the depth at which each pool got stuck. Kata 04c "
      "fixes\nthe waiting instead: a worker that waits runs queued tasks meanwhile.\n");
  std::fflush(stdout);
  std::_Exit(0);  // stuck pools cannot be joined; see the top of the file
}
