// Kata 01a · Start a thread per item, then join them all
// Lesson: lessons/01-threads/README.md#starting-and-joining
//
// run_in_threads(items, work) must call work(item) once for every item, each call on its own
// std::thread, with all the calls running at the same time. It returns only when every call
// has finished. In Python: make a Thread(target=work, args=(item,)) per item, start() them
// all, then join() them all.
//
// Grade it: make test KATA=01a        Stuck? make hint KATA=01a
#pragma once

#include <functional>
#include <thread>
#include <vector>

namespace kata {

inline void run_in_threads(const std::vector<int>& items, const std::function<void(int)>& work) {
  // First start every thread, so that they all run at the same time...
  std::vector<std::thread> workers;
  workers.reserve(items.size());
  for (int item : items) {
    // std::thread copies its arguments into the new thread: each worker owns its own `item`
    // (a lambda capturing `item` by reference would read a loop variable that changes or dies).
    workers.emplace_back(work, item);
  }
  // ...then wait for each of them. Joining in the first loop would make the threads take
  // turns; not joining at all would end the program (a joinable std::thread that is destroyed
  // calls std::terminate). std::vector<std::jthread> would join in its destructor instead.
  for (std::thread& worker : workers) worker.join();
}

}  // namespace kata
