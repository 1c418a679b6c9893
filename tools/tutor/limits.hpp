// Resource limits for one test process and everything it starts, so that a runaway fork loop
// or a busy loop costs only that kata. Read from the manifest, applied by the subprocess layer.
#pragma once

namespace tutor {

struct Limits {
  int processes = 0;    // most tasks (processes + threads) alive at once; 0 = no limit
  int cpu_seconds = 0;  // CPU time per test process; 0 = no limit
};

}  // namespace tutor
