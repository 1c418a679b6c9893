// Kata 01a · Add two numbers
// The solution of the tutor's fixture kata.
#pragma once

namespace kata {

inline int add(int a, int b) { return a + b; }

}  // namespace kata
