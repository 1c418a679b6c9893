// Kata 01f · Include the solution
// The answer the hostile kata 01f tries to read from here.
#pragma once

namespace hostile {
inline int answer() { return 42; }
}  // namespace hostile
