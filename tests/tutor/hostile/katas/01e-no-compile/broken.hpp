// Kata 01e · Do not compile
// Not a kata: a plain compile error, graded BUILD ERROR like any other.
#pragma once

namespace hostile {
inline int answer() { return "forty-two"; }
}  // namespace hostile
