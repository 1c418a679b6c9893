// Whether an OpenMP team's two threads really ran side by side, counted in the calls of a test's
// callback, for tests of races no test can force.
//
// Why: a race such as a shared `sum += f(x)` or `++count` after a callback has returned is a
// read and a write a few instructions apart: no test can hold a thread between them. They
// collide only while the two threads run at once, on two cores, and then thousands of times in a
// few milliseconds. So a test counts, on each thread, the calls after which the other thread had
// made a call too ("side by side"), and repeats its run until something is lost (a failure) or a
// run had enough such calls and lost nothing. Measured for kata 08a over 1,200 runs with a shared
// sum, idle and busy: every run with 1,000 calls side by side lost terms; the runs that lost none
// had at most 4 (each a switch of threads on one core).
//
// The first call on each thread waits for the other thread's first (at most 2 s), so that both
// start at the same moment. It waits awake, looking again and again: a thread asleep in a wait
// is woken, on a busy machine, on the core of the thread that woke it. And each thread is pinned
// to a core of its own until the object is destroyed: on a machine whose cores are all busy the
// scheduler has no reason to keep the two threads apart, and two threads that take turns on one
// core never run side by side (seen: 1,177 runs in 8 s, none with a call side by side).
//
//   testkit::SideBySide threads;                       // one per run of the code under test
//   kata::integrate([&](double) { threads.call(); return 1.0; }, steps, 2);
//   ASSERT_TRUE(threads.started_together()) << "the calls ran one at a time: a critical section?";
//   if (threads.side_by_side() >= 1000 || !testkit::SideBySide::possible()) return;  // proven
//
// On a machine (or an affinity mask) with one core, possible() is false: threads can only take
// turns there, and no test can catch such a race.
#pragma once

#include <omp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <thread>

#include "testkit/cores.hpp"

namespace testkit {

class SideBySide {
 public:
  // Called by the test's callback (f, inside(), ...), on whichever thread of the team runs it;
  // calls from threads other than the team's first two are not counted.
  void call() {
    const int me = omp_get_thread_num();
    if (me < 0 || me > 1) return;
    Calls& mine = calls_[static_cast<std::size_t>(me)];
    const Calls& other = calls_[static_cast<std::size_t>(1 - me)];
    const long made = mine.made.load(std::memory_order_relaxed);
    if (made == 0) {
      mine.pinned.emplace(me);
      mine.made.store(1);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (other.made.load() == 0 && !apart_) {
        if (std::chrono::steady_clock::now() > give_up) apart_ = true;
        std::this_thread::yield();
      }
      mine.other_seen = other.made.load(std::memory_order_relaxed);
      return;
    }
    const long seen = other.made.load(std::memory_order_relaxed);
    if (seen != mine.other_seen) ++mine.side_by_side;
    mine.other_seen = seen;
    mine.made.store(made + 1, std::memory_order_relaxed);
  }

  // False if the calling thread may run on one core only: then two threads can only take turns.
  static bool possible() { return PinnedToCore::two_cores_allowed(); }

  // Read these after the parallel loop has ended.
  bool started_together() const { return !apart_; }
  long calls() const { return calls_[0].made + calls_[1].made; }
  long side_by_side() const { return calls_[0].side_by_side + calls_[1].side_by_side; }

 private:
  struct alignas(64) Calls {  // a cache line each: the threads write only their own
    std::atomic<long> made{0};
    long other_seen = 0;
    long side_by_side = 0;
    std::optional<PinnedToCore> pinned;  // until the SideBySide is destroyed
  };

  std::array<Calls, 2> calls_;
  std::atomic<bool> apart_{false};
};

}  // namespace testkit
