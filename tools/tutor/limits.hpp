// Resource limits for one test process and everything it starts, so that a runaway fork loop,
// a busy loop, an allocation without end or a file without end costs only that kata. Read from
// the manifest (kata defaults below), applied by the subprocess layer. 0 means no limit.
#pragma once

namespace tutor {

struct Limits {
  int processes = 0;    // most tasks (processes + threads) alive at once
  int cpu_seconds = 0;  // CPU time per test process
  int memory_mb = 0;    // memory of the test and its children together (a cgroup's cap)
  int file_mb = 0;      // largest file the test may write (RLIMIT_FSIZE)
};

// What a kata's tests get when the manifest says nothing: enough for any kata (the largest
// start a few dozen threads or processes; ThreadSanitizer needs a few hundred MB), small enough
// that a fork bomb or a runaway allocation stops long before the machine suffers.
inline constexpr Limits kKataDefaultLimits{256, 0, 2048, 64};

}  // namespace tutor
