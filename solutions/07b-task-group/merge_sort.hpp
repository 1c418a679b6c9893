// Kata 07b · Fork and join: a merge sort on a task_group, with a serial cut-off
// Lesson: lessons/07-onetbb/README.md#fork-and-join-task_group
//
// merge_sort() sorts correctly, but on one thread, and it splits all the way down to single
// items. Make it fork and join: the two halves of a piece are independent, so sort them at the
// same time with a tbb::task_group, then merge. And stop splitting at the cut-off: a piece of at
// most `cutoff` items goes whole to serial_sort (below that size a task costs more than it saves).
//
// Grade it: make test KATA=07b        Stuck? make hint KATA=07b
#pragma once

#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <span>

namespace kata {

// Sorts a small piece on the calling thread (std::sort, say).
using SerialSort = std::function<void(std::span<int> piece)>;

// Sorts data in ascending order. A piece of more than cutoff (>= 1) items is split into two
// halves that are sorted at the same time, then merged; a piece of at most cutoff items is
// handed whole to serial_sort.
inline void merge_sort(std::span<int> data, std::size_t cutoff, const SerialSort& serial_sort) {
  if (data.size() <= cutoff) {  // the serial cut-off: too small to be worth a task
    serial_sort(data);
    return;
  }
  const std::size_t half = data.size() / 2;
  // Fork: the first half becomes a task that an idle thread may steal; this thread sorts the
  // second half meanwhile. Join: wait() returns once the task has run (here or on a thief), and
  // re-throws an exception it threw. While it waits, this thread runs other tasks: no thread
  // sits idle in a nested wait, and no thread is started per split.
  tbb::task_group halves;
  halves.run([&] { merge_sort(data.first(half), cutoff, serial_sort); });
  merge_sort(data.subspan(half), cutoff, serial_sort);
  halves.wait();
  std::inplace_merge(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(half), data.end());
}

}  // namespace kata
