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
// baseline instead: a team of kOpenMpTeam threads is started on the test's own thread, and
// later regions of up to that many threads on that thread start no new thread. A region with more
// threads does, and is reported.
//
// Run the code under test on the test's own thread, not inside testkit::finishes_within: that
// runs each call on a new thread, each such thread gets a team of its own, and libomp 14 crashes
// (a bus error, or an assertion in kmp_alloc.cpp) once a few threads that made tasks in their
// regions have ended: 9 runs in 10 with five such threads, on this machine. A thread that lives
// as long as the process is safe.
//
//   class PiReduction : public testkit::OpenMpLeakCheckedTest {};
#pragma once

#include "testkit/leak_checked_test.hpp"

namespace testkit {

// The largest team the OpenMP katas' tests ask for (they set the thread count explicitly).
inline constexpr int kOpenMpTeam = 2;

// Starts the runtime's workers for a team of `threads` on the calling thread.
inline void start_openmp_pool(int threads) {
#pragma omp parallel num_threads(threads)
  {}
}

class OpenMpLeakCheckedTest : public LeakCheckedTest {
 protected:
  void SetUp() override {
    start_openmp_pool(kOpenMpTeam);
    LeakCheckedTest::SetUp();
  }
};

}  // namespace testkit
