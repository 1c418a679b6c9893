// Cores, for tests that depend on them.
//
// more_calls_than_cores(): how many calls a test needs so that "they all ran at the same time"
// means one thread each, on any machine. An implementation that starts one thread per core (a
// pool sized by std::thread::hardware_concurrency()) runs 6 calls together on a 64-core machine
// but not on a 2-core one. A test that proves concurrency with a fixed count of calls therefore
// passes or fails depending on where it runs; with more calls than cores it fails everywhere.
//
// PinnedToCore: keeps a thread on one core of its own while it lives. A race test whose two
// threads must run side by side (kata 08a's `sum += f(x)`, 10a's decrefs) pins one to the first
// core it may use and the other to the second: on a machine whose cores are all busy, the
// scheduler otherwise has no reason to keep them apart, and two threads taking turns on one core
// never meet inside a window of a few instructions.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace testkit {

// More than this machine's cores (two more), and at least `at_least`.
inline int more_calls_than_cores(int at_least = 6) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());  // 0: unknown
  return std::max(at_least, cores + 2);
}

// Pins the calling thread to the nth (0, 1, ...) of the cores it may run on, if it may run on
// more than n; the destructor, which may run on any thread, gives the pinned thread back the
// cores it had. pinned() is false where there was nothing to pin to (one core allowed).
class PinnedToCore {
 public:
  explicit PinnedToCore(int nth) : thread_(pthread_self()) {
    CPU_ZERO(&before_);
    const int allowed =
        pthread_getaffinity_np(thread_, sizeof before_, &before_) == 0 ? CPU_COUNT(&before_) : 0;
    if (allowed < 2 || allowed <= nth) return;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &before_) || seen++ != nth) continue;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pinned_ = pthread_setaffinity_np(thread_, sizeof one, &one) == 0;
      return;
    }
  }
  ~PinnedToCore() {
    if (pinned_) pthread_setaffinity_np(thread_, sizeof before_, &before_);
  }
  PinnedToCore(const PinnedToCore&) = delete;
  PinnedToCore& operator=(const PinnedToCore&) = delete;

  bool pinned() const { return pinned_; }

  // False if the calling thread may run on one core only: two threads can only take turns.
  static bool two_cores_allowed() {
    cpu_set_t cpus;
    return sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) >= 2;
  }

 private:
  pthread_t thread_;
  cpu_set_t before_;
  bool pinned_ = false;
};

}  // namespace testkit
