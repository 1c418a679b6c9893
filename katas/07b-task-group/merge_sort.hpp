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
  // TODO: there is no cut-off: every piece is split down to single items (serial_sort is unused).
  (void)cutoff;
  (void)serial_sort;
  if (data.size() < 2) return;
  const std::size_t half = data.size() / 2;
  // TODO: the second half waits until the first one is sorted, on the same thread.
  merge_sort(data.first(half), cutoff, serial_sort);
  merge_sort(data.subspan(half), cutoff, serial_sort);
  std::inplace_merge(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(half), data.end());
}

}  // namespace kata
