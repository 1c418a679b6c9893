// as_completed: three ways to collect the results of tasks that finish in their own order, and
// what each costs on this machine.
//
// Eight tasks sleep for different times (like eight downloads) on a pool of eight workers.
// The caller handles their results
//   - in input order: futures[0].get(), then futures[1].get(), ... (the plain std::future way);
//   - by polling: asking every future "ready yet?" (wait_for(0)) in a loop until one is;
//   - as they complete: each task, as its last step, puts its index in a queue guarded by a
//     mutex and a condition variable, and the caller sleeps on that queue (what Python's
//     concurrent.futures.as_completed does with its waiter object, and what kata 04b builds).
// For each it prints when the first result was handled, when all were, and how much CPU time
// the caller's thread burnt while waiting.
//
//   as_completed           task times of 10-80 ms
//   as_completed --quick   task times of 2-16 ms (for make check)
#include <fmt/core.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "thread_pool.hpp"  // support::ThreadPool: kata 03a's pool, solved

namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

// CPU time this thread has used so far (not wall time: sleeping costs none).
double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

// The first task is the slowest: in input order, nothing can be handled until it is done.
constexpr int kUnits[] = {8, 1, 6, 3, 7, 2, 5, 4};
constexpr int kTasks = 8;

// Results arrive here as the tasks finish, in finishing order.
class CompletionQueue {
 public:
  void push(int index) {
    {
      std::lock_guard lock(mutex_);
      done_.push_back(index);
    }
    arrived_.notify_one();
  }
  int pop() {
    std::unique_lock lock(mutex_);
    arrived_.wait(lock, [this] { return !done_.empty(); });
    const int index = done_.front();
    done_.pop_front();
    return index;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<int> done_;
};

struct Outcome {
  double first_ms = 0;
  double all_ms = 0;
  double cpu_ms = 0;
  std::vector<int> order;  // task indices in the order the caller handled them
};

// Starts the eight tasks; each sleeps, then reports through `finished` (may be null).
std::vector<std::future<int>> start_tasks(support::ThreadPool& pool, Ms unit,
                                          CompletionQueue* finished) {
  std::vector<std::future<int>> futures;
  for (int i = 0; i < kTasks; ++i) {
    auto task = std::make_shared<std::packaged_task<int()>>([i, unit] {
      std::this_thread::sleep_for(kUnits[i] * unit);
      return i * i;
    });
    futures.push_back(task->get_future());
    pool.submit([task, finished, i] {
      (*task)();  // the future is ready from here on
      if (finished) finished->push(i);
    });
  }
  return futures;
}

template <typename Collect>
Outcome measure(support::ThreadPool& pool, Ms unit, bool with_queue, Collect collect) {
  CompletionQueue finished;
  Outcome outcome;
  const auto start = Clock::now();
  const double cpu_start = thread_cpu_ms();
  auto futures = start_tasks(pool, unit, with_queue ? &finished : nullptr);
  collect(futures, finished, [&](int index) {
    (void)futures[index].get();
    if (outcome.order.empty()) outcome.first_ms = Ms(Clock::now() - start).count();
    outcome.order.push_back(index);
  });
  outcome.all_ms = Ms(Clock::now() - start).count();
  outcome.cpu_ms = thread_cpu_ms() - cpu_start;
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const Ms unit(quick ? 2 : 10);
  support::ThreadPool pool(kTasks);

  const Outcome in_order = measure(pool, unit, false, [](auto& futures, auto&, auto handle) {
    for (int i = 0; i < static_cast<int>(futures.size()); ++i) handle(i);
  });
  const Outcome polling = measure(pool, unit, false, [](auto& futures, auto&, auto handle) {
    std::vector<bool> handled(futures.size(), false);
    for (std::size_t left = futures.size(); left > 0;) {
      for (std::size_t i = 0; i < futures.size(); ++i) {
        if (handled[i]) continue;
        if (futures[i].wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
        handled[i] = true;
        --left;
        handle(static_cast<int>(i));
      }
    }
  });
  const Outcome completed =
      measure(pool, unit, true, [](auto& futures, auto& finished, auto handle) {
        for (std::size_t i = 0; i < futures.size(); ++i) handle(finished.pop());
      });

  fmt::print("Eight tasks of {} ms on a pool of eight; task 0 is the slowest.\n\n", [&] {
    std::string list;
    for (int u : kUnits) list += (list.empty() ? "" : ", ") + fmt::format("{:g}", u * unit.count());
    return list;
  }());
  fmt::print("{:<34} {:>10} {:>10} {:>14}   {}\n", "collecting results", "first (ms)", "all (ms)",
             "caller CPU (ms)", "order handled");
  auto row = [](const char* what, const Outcome& o) {
    std::string order;
    for (int i : o.order) order += std::to_string(i);
    fmt::print("{:<34} {:>10.1f} {:>10.1f} {:>14.2f}   {}\n", what, o.first_ms, o.all_ms, o.cpu_ms,
               order);
  };
  row("in input order (get() one by one)", in_order);
  row("polling wait_for(0) in a loop", polling);
  row("as completed (a queue to sleep on)", completed);
  fmt::print(
      "\nIn input order, the first result waits for the slowest task. Polling handles each result "
      "as\nsoon as it is ready, but keeps a core busy asking. As completed gets both: results "
      "in\nfinishing order, and a caller that sleeps until one arrives.\n");
  return 0;
}
