// Kata 06d · Give each thread's counter a cache line of its own
// Lesson: lessons/06-shared-state/README.md#false-sharing
//
// count_if_parallel() cuts the data into one part per thread, and each thread adds its
// matches, one at a time, to its own slot of a PerThreadCounters, which any other thread may
// read meanwhile to show progress. No two threads write one slot, so there is no data race.
// But the slots are packed eight to a 64-byte cache line, and a core must own a whole line to
// write any byte of it: every increment pulls the line away from the other cores (false
// sharing). Give every slot a cache line of its own; the counting itself needs no change.
//
// Grade it: make test KATA=06d        Stuck? make hint KATA=06d
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "cache_line.hpp"  // support::kCacheLineSize

namespace kata {

class PerThreadCounters {
 public:
  explicit PerThreadCounters(std::size_t threads) : slots_(threads) {}

  std::size_t size() const { return slots_.size(); }

  // Thread i's counter: only thread i adds to it, any thread may read it.
  std::atomic<long>& slot(std::size_t i) { return slots_[i].count; }

  // The sum of all slots now.
  long total() const {
    long sum = 0;
    for (const Slot& slot : slots_) sum += slot.count.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  // alignas makes every Slot start on a cache line and (since sizeof is a multiple of the
  // alignment) fill it: the next slot starts on the next line. std::vector allocates such
  // over-aligned elements with the aligned operator new of C++17.
  struct alignas(support::kCacheLineSize) Slot {
    std::atomic<long> count{0};
  };
  static_assert(sizeof(Slot) == support::kCacheLineSize);
  std::vector<Slot> slots_;
};

// Counts the elements x of `data` for which pred(x) is true, on counters.size() threads, and
// returns the count. Thread i takes the i-th of counters.size() neighbouring parts (the first
// data.size() % counters.size() parts are one longer) and adds each match to counters.slot(i)
// at once, so that progress can be watched.
inline long count_if_parallel(const std::vector<int>& data, const std::function<bool(int)>& pred,
                              PerThreadCounters& counters) {
  const std::size_t parts = counters.size();
  std::vector<std::thread> threads;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < parts; ++i) {
    const std::size_t end = begin + data.size() / parts + (i < data.size() % parts ? 1 : 0);
    threads.emplace_back([&data, &pred, &counters, i, begin, end] {
      std::atomic<long>& mine = counters.slot(i);
      for (std::size_t k = begin; k < end; ++k) {
        if (pred(data[k])) mine.fetch_add(1, std::memory_order_relaxed);
      }
    });
    begin = end;
  }
  for (std::thread& thread : threads) thread.join();
  return counters.total();
}

}  // namespace kata
