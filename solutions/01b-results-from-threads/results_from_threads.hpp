// Kata 01b · Get results (and exceptions) back from threads
// Lesson: lessons/01-threads/README.md#getting-results-back
//
// map_in_threads(inputs, fn) runs fn(x) for every input x, each call on its own thread, all at
// the same time, and returns the results in the order of the inputs (not the order in which
// the threads happen to finish). If a call throws, the caller gets that same exception (the
// first one in input order), after every thread has finished.
//
// Grade it: make test KATA=01b        Stuck? make hint KATA=01b
#pragma once

#include <functional>
#include <future>
#include <thread>
#include <vector>

namespace kata {

inline std::vector<int> map_in_threads(const std::vector<int>& inputs,
                                       const std::function<int(int)>& fn) {
  // One packaged_task per input: it calls fn and stores the outcome (a value or the exception
  // fn threw) in its shared state; the matching future, kept at the input's position, reads
  // it. Each thread writes only to its own shared state, so there is nothing to race on.
  std::vector<std::future<int>> futures;
  std::vector<std::thread> threads;
  futures.reserve(inputs.size());
  threads.reserve(inputs.size());
  for (int x : inputs) {
    std::packaged_task<int(int)> task(fn);
    futures.push_back(task.get_future());
    threads.emplace_back(std::move(task), x);
  }

  // Join first: once every thread has finished, nothing is left running when get() below
  // re-throws (and no joinable std::thread is destroyed while the exception unwinds).
  for (std::thread& thread : threads) thread.join();

  std::vector<int> results;
  results.reserve(futures.size());
  for (std::future<int>& future : futures) {
    results.push_back(future.get());  // re-throws fn's exception, same type, in input order
  }
  return results;
}

}  // namespace kata
