// Tests for kata 06d: every slot of a PerThreadCounters has a cache line of its own, and
// count_if_parallel() counts exactly, on as many threads as there are slots, each thread into
// its own slot, while others may read the total.
//
// The layout is checked from the slots' addresses, which is exact and the same on every run;
// whether it makes counting faster is a matter of measurement, and `make bench` measures it
// (see the lesson). The threads are proven to count at the same time with a barrier that the
// first call of pred() on each thread must pass.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <new>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "false_sharing.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/timed_barrier.hpp"

namespace {

using namespace std::chrono_literals;

// The distance that keeps two slots out of one cache line: the standard library's value where
// it has one (g++ 12; clang 14 with libstdc++ has none), else the cache line of x86-64.
#ifdef __cpp_lib_hardware_interference_size
constexpr std::size_t kApart = std::hardware_destructive_interference_size;
#else
constexpr std::size_t kApart = 64;
#endif

class FalseSharing : public testkit::LeakCheckedTest {};

std::uintptr_t address_of(kata::PerThreadCounters& counters, std::size_t i) {
  return reinterpret_cast<std::uintptr_t>(&counters.slot(i));
}

TEST_F(FalseSharing, NoTwoSlotsShareACacheLine) {
  kata::PerThreadCounters counters(4);
  for (std::size_t i = 0; i + 1 < counters.size(); ++i) {
    const std::uintptr_t here = address_of(counters, i), next = address_of(counters, i + 1);
    const std::uintptr_t apart = next > here ? next - here : here - next;
    ASSERT_GE(apart, kApart)
        << "the counters of thread " << i << " and thread " << i + 1 << " are " << apart
        << " bytes apart, closer than a cache line (" << kApart
        << " bytes): a core must own a whole line to write into it, so the two "
           "threads take the line from each other at every increment. "
           "How far apart are neighbouring slots in the container?";
  }
  for (std::size_t i = 0; i < counters.size(); ++i) {
    const std::uintptr_t first = address_of(counters, i) / kApart;
    const std::uintptr_t last = (address_of(counters, i) + sizeof(long) - 1) / kApart;
    for (std::size_t j = 0; j < counters.size(); ++j) {
      const std::uintptr_t other = address_of(counters, j) / kApart;
      ASSERT_TRUE(i == j || (other != first && other != last))
          << "the counters of thread " << i << " and thread " << j << " touch the same " << kApart
          << "-byte cache line although they are far enough apart: does each slot "
          << "start where a cache line starts?";
    }
  }
}

// Counts the even numbers of 0 .. n-1 on `threads` threads and checks the total and each
// thread's share.
void expect_exact_counts(std::size_t n, std::size_t threads) {
  std::vector<int> data(n);
  std::iota(data.begin(), data.end(), 0);
  kata::PerThreadCounters counters(threads);
  const long total = kata::count_if_parallel(
      data, [](int x) { return x % 2 == 0; }, counters);
  const std::string what = "counting the even numbers of 0.." + std::to_string(n) +
                           " (exclusive) on " + std::to_string(threads) + " threads";
  EXPECT_EQ(total, static_cast<long>((n + 1) / 2)) << what << " returned the wrong total";
  std::size_t begin = 0;
  for (std::size_t i = 0; i < threads; ++i) {
    const std::size_t end = begin + n / threads + (i < n % threads ? 1 : 0);
    const long share = static_cast<long>((end + 1) / 2 - (begin + 1) / 2);
    EXPECT_EQ(counters.slot(i).load(), share)
        << what << ": slot " << i << " should hold the matches of part " << i << " (elements "
        << begin << " to " << end << ", exclusive)";
    begin = end;
  }
}

TEST_F(FalseSharing, CountsEveryMatchExactlyInItsThreadsSlot) {
  expect_exact_counts(100'003, 4);
  expect_exact_counts(100'000, 1);
  expect_exact_counts(3, 4);  // more threads than elements
  expect_exact_counts(0, 2);
}

TEST_F(FalseSharing, TheThreadsCountAtTheSameTime) {
  // The first pred() call on each of the 3 threads waits at a barrier for the other two.
  testkit::TimedBarrier all_counting(3, 3s);
  std::vector<int> data(3000, 1);
  kata::PerThreadCounters counters(3);
  kata::count_if_parallel(
      data,
      [&](int) {
        thread_local bool arrived = false;
        if (!arrived) {
          arrived = true;
          all_counting.arrive_and_wait();
        }
        return true;
      },
      counters);
  EXPECT_TRUE(all_counting.completed())
      << "only " << all_counting.arrived()
      << " of 3 threads were counting at the same time: does count_if_parallel() start every "
         "thread before it waits for any?";
}

TEST_F(FalseSharing, TheTotalCanBeReadWhileTheThreadsCount) {
  // A monitor reads total() until counting ends; pred() on the first element waits until it
  // has read at least once, so the reads overlap the counting.
  constexpr std::size_t kSize = 200'000;
  std::vector<int> data(kSize, 1);
  kata::PerThreadCounters counters(2);
  std::atomic<bool> counting{true};
  std::atomic<int> reads{0};
  int backwards = 0;
  std::thread monitor([&] {
    long last = 0;
    while (counting.load()) {
      const long now = counters.total();
      if (now < last) ++backwards;
      last = now;
      reads.fetch_add(1);
    }
  });
  std::atomic<bool> first{true};
  const long total = kata::count_if_parallel(
      data,
      [&](int) {
        if (first.exchange(false)) testkit::eventually([&] { return reads.load() > 0; }, 2s);
        return true;
      },
      counters);
  counting = false;
  monitor.join();
  EXPECT_EQ(total, static_cast<long>(kSize)) << "every element matched";
  EXPECT_EQ(backwards, 0) << "total(), read while the threads counted, went backwards " << backwards
                          << " times";
}

}  // namespace
