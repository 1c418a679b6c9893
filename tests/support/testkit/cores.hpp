// How many calls a test needs so that "they all ran at the same time" means one thread each,
// on any machine: more than the machine has cores.
//
// Why: an implementation that starts one thread per core (a pool sized by
// std::thread::hardware_concurrency()) runs 6 calls together on a 64-core machine but not on
// a 2-core one. A test that proves concurrency with a fixed count of calls therefore passes or
// fails depending on where it runs; with more calls than cores it fails everywhere.
#pragma once

#include <algorithm>
#include <thread>

namespace testkit {

// More than this machine's cores (two more), and at least `at_least`.
inline int more_calls_than_cores(int at_least = 6) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());  // 0: unknown
  return std::max(at_least, cores + 2);
}

}  // namespace testkit
