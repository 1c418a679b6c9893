// LeakCheckedTest for code that runs OpenMP parallel regions: the OpenMP runtime's own pool of
// worker threads is started before the thread count is taken, so that the check after the test
// still catches every thread the code under test starts and leaves running, but not the pool.
// Only for files compiled with -fopenmp (a kata whose manifest row links OpenMP::OpenMP_CXX).
//
// Why: the OpenMP runtime (libomp with clang, libgomp with g++) keeps the worker threads of a
// team alive, asleep, after a parallel region ends, for the next region: they are the runtime's,
// not a leak. They cannot be ended from a test: OpenMP 5.0's
// omp_pause_resource_all(omp_pause_hard) does end them, but libomp 14 then aborts at the next
// parallel region ("OMP: Error #132: Thread identifier invalid"). So they are counted in the
// baseline instead. A team is started on the test's own thread and on a helper thread
// (testkit::finishes_within runs the call on one): libomp keeps a team for the thread that began
// the region and gives the threads of a helper thread's team back to a shared pool when that
// thread ends, so after these two, further regions of up to kOpenMpTeam threads, on either kind
// of thread, start no new thread. A region with more threads than that does, and is reported.
//
//   class PiReduction : public testkit::OpenMpLeakCheckedTest {};
#pragma once

#include <thread>

#include "testkit/leak_checked_test.hpp"

namespace testkit {

// The largest team the OpenMP katas' tests ask for (they set the thread count explicitly).
inline constexpr int kOpenMpTeam = 2;

// Starts the runtime's workers for teams of `threads` on this thread and on a helper thread.
inline void start_openmp_pool(int threads) {
  const auto empty_region = [threads] {
#pragma omp parallel num_threads(threads)
    {}
  };
  empty_region();
  std::thread(empty_region).join();
}

class OpenMpLeakCheckedTest : public LeakCheckedTest {
 protected:
  void SetUp() override {
    start_openmp_pool(kOpenMpTeam);
    LeakCheckedTest::SetUp();
  }
};

}  // namespace testkit
