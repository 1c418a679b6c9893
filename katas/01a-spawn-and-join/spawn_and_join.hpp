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
  for (int item : items) {
    std::thread worker(work, item);
    // TODO: join() waits until this thread has finished, so the loop cannot start the next
    //       thread before this one is done. Are the threads ever running together?
    worker.join();
  }
}

}  // namespace kata
