// Kata 08a · Integrate π on two threads without losing a term
// Lesson: lessons/08-openmp/README.md#reduction
//
// integrate() adds up f at the midpoints of `steps` equal steps of [0, 1] and multiplies the sum
// by the width of a step (the midpoint rule); pi() integrates 4 / (1 + x²), whose integral is π.
// The loop is already shared out between `threads` OpenMP threads, but they all add into one
// sum: each reads it, calls f, and writes back what it read plus f's value, so whatever another
// thread added in the meantime is overwritten. Make every term count, and keep f running on all
// the threads at once.
//
// Grade it: make test KATA=08a        Stuck? make hint KATA=08a
#pragma once

#include <functional>

namespace kata {

inline double integrate(const std::function<double(double)>& f, long steps, int threads) {
  const double width = 1.0 / static_cast<double>(steps);
  double sum = 0.0;
// Each thread adds its own terms into a private sum that starts at 0; at the end of the loop
// OpenMP adds the private sums into this one, one thread at a time.
#pragma omp parallel for num_threads(threads) reduction(+ : sum)
  for (long i = 0; i < steps; ++i) {
    const double x = (static_cast<double>(i) + 0.5) * width;
    sum = sum + f(x);
  }
  return sum * width;
}

inline double pi(long steps, int threads) {
  return integrate([](double x) { return 4.0 / (1.0 + x * x); }, steps, threads);
}

}  // namespace kata
