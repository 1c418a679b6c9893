// Tests for kata 07b: merge_sort() sorts; a piece of at most `cutoff` items goes whole to
// serial_sort, a larger one is split in halves that are sorted at the same time, on oneTBB's
// threads rather than on a new thread per split.
//
// oneTBB is pinned to 2 threads (testkit::OneTbbTest). The serial sorts of the first and the
// last piece wait for each other at a timed barrier: they meet only if the two halves of the
// whole are sorted at the same time. Which pieces serial_sort got is recorded, from any thread.
#include <gtest/gtest.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "merge_sort.hpp"
#include "testkit/deadline.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/onetbb.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

class TaskGroup : public testkit::OneTbbTest {};

const std::string kHangHint =
    "merge_sort() does not return: does a half wait for a task that nobody runs, or does the "
    "recursion never reach the cut-off?";

std::vector<int> shuffled(std::size_t n, int largest) {
  std::mt19937 random(2024);
  std::uniform_int_distribution<int> value(0, largest);
  std::vector<int> items(n);
  for (int& item : items) item = value(random);
  return items;
}

// serial_sort for the tests: sorts each piece and records the sizes of all the pieces it got.
class RecordingSort {
 public:
  void operator()(std::span<int> piece) {
    std::sort(piece.begin(), piece.end());
    std::lock_guard lock(mutex_);
    sizes_.push_back(piece.size());
  }
  std::vector<std::size_t> sizes() {
    std::lock_guard lock(mutex_);
    return sizes_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::size_t> sizes_;
};

// Sorts items with kata::merge_sort under a deadline; serial_sort is `sort`. A task_group that is
// destroyed without a wait() throws tbb::missing_wait from its destructor: that is a failure here,
// in the course's words, not an exception that reaches the test with oneTBB's text only.
void sort_within_deadline(std::vector<int>& items, std::size_t cutoff,
                          const kata::SerialSort& sort) {
  try {
    testkit::finishes_within(
        10s, "merge_sort of " + std::to_string(items.size()) + " items",
        [&] { kata::merge_sort(items, cutoff, sort); }, kHangHint);
  } catch (const tbb::missing_wait& error) {
    ADD_FAILURE() << "merge_sort threw tbb::missing_wait (\"" << error.what()
                  << "\"): a tbb::task_group was destroyed while a task it ran could still be "
                     "running. Is wait() called on the task_group before it goes out of scope, and "
                     "before the merge that needs both halves?";
  }
}

// What is wrong with items, which kata::merge_sort sorted, next to std::sort of the same input;
// empty when they are the same.
std::string sorting_mistake(const std::vector<int>& items, std::vector<int> input) {
  std::sort(input.begin(), input.end());
  if (items == input) return "";
  const std::string n = std::to_string(items.size()) + " items";
  const auto unsorted = std::is_sorted_until(items.begin(), items.end());
  if (unsorted == items.end()) {
    return "the " + n + " came out in order, but not the same items (some lost, some twice): " +
           "is a piece sorted or merged while another thread still works on it, or twice?";
  }
  const auto at = static_cast<std::size_t>(unsorted - items.begin());
  return "the " + n + " are not sorted (item " + std::to_string(at) + ", " +
         std::to_string(items[at]) + ", comes after " + std::to_string(items[at - 1]) +
         "): is every merge done after both of its halves are sorted (the join, wait(), before "
         "the merge)?";
}

TEST_F(TaskGroup, PiecesOfAtMostTheCutoffGoWholeToTheSerialSort) {
  const std::vector<int> input = shuffled(1000, 1 << 20);
  std::vector<int> items = input;
  RecordingSort recorder;
  sort_within_deadline(items, 100, [&](std::span<int> piece) { recorder(piece); });
  const std::vector<std::size_t> sizes = recorder.sizes();
  ASSERT_FALSE(sizes.empty())
      << "serial_sort was never called for 1000 items with a cut-off of 100: does merge_sort "
         "split pieces down to single items instead of handing a small piece to serial_sort?";
  std::size_t total = 0;
  for (std::size_t size : sizes) {
    total += size;
    ASSERT_LE(size, 100u) << "serial_sort got a piece of " << size
                          << " items, more than the cut-off of 100: is a larger piece split?";
    ASSERT_GT(size, 50u) << "serial_sort got a piece of " << size << " items: a piece of up to "
                         << "100 (the cut-off) must not be split further. Is the size compared "
                            "with the cut-off before splitting?";
  }
  EXPECT_EQ(total, 1000u) << "the pieces serial_sort got hold " << total
                          << " items in all, not 1000: is every piece sorted exactly once?";
  const std::string mistake = sorting_mistake(items, input);
  EXPECT_TRUE(mistake.empty()) << mistake;
}

TEST_F(TaskGroup, TheTwoHalvesAreSortedAtTheSameTime) {
  const std::vector<int> input = shuffled(1000, 1 << 20);
  std::vector<int> items = input;
  testkit::TimedBarrier ends(2, 2000ms);
  const int* first = items.data();
  const int* last = items.data() + items.size();
  sort_within_deadline(items, 100, [&](std::span<int> piece) {
    if (piece.data() == first || piece.data() + piece.size() == last) ends.arrive_and_wait();
    std::sort(piece.begin(), piece.end());
  });
  const std::string mistake = sorting_mistake(items, input);
  EXPECT_TRUE(mistake.empty()) << mistake;
  EXPECT_TRUE(ends.completed())
      << (ends.arrived() == 0 ? "serial_sort never got the first or the last piece"
                              : "the first and the last piece were never sorted at the same time "
                                "(each waited 2 s for the other in vain)")
      << ": are both halves still sorted one after the other on the calling thread? A "
         "tbb::task_group can run one half while this thread sorts the other";
}

TEST_F(TaskGroup, RunsOnOneTbbsThreadsNotOnANewThreadPerSplit) {
  const std::vector<int> input = shuffled(1 << 15, 1 << 20);
  std::vector<int> items = input;
  const int threads_before = testkit::thread_count();
  std::mutex mutex;
  int most_threads = 0;
  // 1024 pieces of 32: 1023 splits.
  sort_within_deadline(items, 32, [&](std::span<int> piece) {
    const int now = testkit::thread_count();
    std::sort(piece.begin(), piece.end());
    std::lock_guard lock(mutex);
    most_threads = std::max(most_threads, now);
  });
  const std::string mistake = sorting_mistake(items, input);
  EXPECT_TRUE(mistake.empty()) << mistake;
  // The deadline's runner thread and oneTBB's one worker (2 threads in all) make 2 more.
  EXPECT_LE(most_threads - threads_before, 4)
      << "while 1024 pieces were sorted, the process had up to " << (most_threads - threads_before)
      << " more threads than before: does merge_sort start a std::thread (or std::async) for "
         "each split? oneTBB's task_group runs its tasks on oneTBB's own threads";
}

TEST_F(TaskGroup, SortsALargeVectorWithManyEqualItems) {
  const std::vector<int> input = shuffled(300'000, 999);
  std::vector<int> items = input;
  sort_within_deadline(items, 2000,
                       [](std::span<int> piece) { std::sort(piece.begin(), piece.end()); });
  const std::string mistake = sorting_mistake(items, input);
  EXPECT_TRUE(mistake.empty()) << mistake;
}

// Sorts `size` items with a cut-off of `cutoff` (>= size) and returns the sizes of the pieces
// serial_sort got; the items must come out sorted.
std::vector<std::size_t> pieces_when_sorting(std::size_t size, std::size_t cutoff) {
  const std::vector<int> input = shuffled(size, 1000);
  std::vector<int> items = input;
  RecordingSort recorder;
  sort_within_deadline(items, cutoff, [&](std::span<int> piece) { recorder(piece); });
  const std::string mistake = sorting_mistake(items, input);
  EXPECT_TRUE(mistake.empty()) << mistake;
  return recorder.sizes();
}

TEST_F(TaskGroup, APieceNoLargerThanTheCutoffIsSortedWhole) {
  EXPECT_EQ(pieces_when_sorting(50, 100), std::vector<std::size_t>{50})
      << "50 items with a cut-off of 100 make one piece: serial_sort must be called once, with "
         "all 50";
  const std::vector<std::size_t> pieces = pieces_when_sorting(100, 100);
  EXPECT_EQ(pieces, std::vector<std::size_t>{100})
      << "100 items with a cut-off of 100 "
      << (pieces.empty() ? std::string("never reached serial_sort")
                         : "reached serial_sort in " + std::to_string(pieces.size()) + " pieces")
      << ": a piece of at most the cut-off, exactly the cut-off included, goes whole to "
         "serial_sort. Is the size compared with the cut-off by < where <= belongs?";
}

class Rejected : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_F(TaskGroup, AnExceptionFromTheSerialSortReachesTheCaller) {
  std::vector<int> items = shuffled(1000, 1000);
  const int* poisoned = items.data() + 700;
  std::exception_ptr error;
  try {
    sort_within_deadline(items, 100, [&](std::span<int> piece) {
      if (piece.data() <= poisoned && poisoned < piece.data() + piece.size()) {
        throw Rejected("the piece holding item 700");
      }
      std::sort(piece.begin(), piece.end());
    });
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(testkit::describe_exception(error), "Rejected(\"the piece holding item 700\")")
      << "serial_sort threw Rejected for one piece; merge_sort must let it reach its caller, with "
         "its type (a task_group's wait() re-throws what a task threw)";
}

}  // namespace
