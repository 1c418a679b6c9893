// Kata 01c · Silence ThreadSanitizer
// Not a kata: a data race, and the hook that asks ThreadSanitizer to report nothing. The count
// is hard-coded, so only ThreadSanitizer can fail it.
#pragma once

#include <thread>

extern "C" const char* __tsan_default_options() { return "report_bugs=0"; }

namespace hostile {
inline int racy_count() {
  int count = 0;
  auto add = [&count] {
    for (int i = 0; i < 1000; ++i) ++count;
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
  return count > 0 ? 2000 : 0;
}
}  // namespace hostile
