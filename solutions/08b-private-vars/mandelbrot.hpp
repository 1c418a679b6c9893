// Kata 08b · The Mandelbrot area on two threads: private loop indices and temporaries
// Lesson: lessons/08-openmp/README.md#private-firstprivate-shared
//
// count_inside() tests every point of a grid with inside() and counts the points it accepts;
// mandelbrot_area() uses it to estimate the area of the Mandelbrot set. The rows are shared out
// between `threads` OpenMP threads, and the count is a reduction, but the inner loop's index
// and the point being tested are declared before the parallel loop: so there is one of each,
// shared by all the threads, and a thread tests the point that another thread has just put
// there, at a column that another thread has just moved on. Give each thread its own.
//
// Grade it: make test KATA=08b        Stuck? make hint KATA=08b
#pragma once

#include <complex>
#include <functional>

namespace kata {

// A rectangle of the complex plane cut into columns × rows cells; a cell's point is its centre.
struct Grid {
  double re_min, re_max;  // the real parts: left and right edge
  double im_min, im_max;  // the imaginary parts: bottom and top edge
  int columns, rows;
};

using Test = std::function<bool(const std::complex<double>& c)>;

// How many of the grid's points inside(c) accepts; each point is tested exactly once.
inline long count_inside(const Grid& grid, const Test& inside, int threads) {
  const double width = (grid.re_max - grid.re_min) / grid.columns;
  const double height = (grid.im_max - grid.im_min) / grid.rows;
  long count = 0;
  // What is declared inside the loop's body is private: each thread has its own column and c.
#pragma omp parallel for num_threads(threads) reduction(+ : count)
  for (int row = 0; row < grid.rows; ++row) {
    for (int column = 0; column < grid.columns; ++column) {
      const std::complex<double> c{grid.re_min + (column + 0.5) * width,
                                   grid.im_min + (row + 0.5) * height};
      if (inside(c)) ++count;
    }
  }
  return count;
}

// True if z = z² + c, from z = 0, stays within |z| <= 2 for max_iterations steps.
inline bool in_mandelbrot_set(const std::complex<double>& c, int max_iterations) {
  std::complex<double> z = 0;
  for (int i = 0; i < max_iterations; ++i) {
    z = z * z + c;
    if (std::norm(z) > 4.0) return false;
  }
  return true;
}

// The area of the Mandelbrot set, estimated on an n × n grid over the upper half of the box
// [-2, 0.5] × [-1.125, 1.125] that holds it (the set is symmetric about the real axis).
inline double mandelbrot_area(int n, int max_iterations, int threads) {
  const Grid upper_half{-2.0, 0.5, 0.0, 1.125, n, n};
  const long inside = count_inside(
      upper_half,
      [max_iterations](const std::complex<double>& c) {
        return in_mandelbrot_set(c, max_iterations);
      },
      threads);
  const double box =
      (upper_half.re_max - upper_half.re_min) * (upper_half.im_max - upper_half.im_min);
  return 2.0 * box * static_cast<double>(inside) / (static_cast<double>(n) * n);
}

}  // namespace kata
