// Work of very uneven cost for lesson 08's schedules: the rows of a Mandelbrot image. Used by the
// lesson's demo (lessons/08-openmp/schedules.cpp) and its benchmark (bench/08-openmp_bench.cpp).
// Nothing here is for you to edit.
#pragma once

namespace support {

// The steps z = z² + c takes to leave |z| <= 2 (at most max_steps), summed over row `row` of a
// rows × columns grid on the upper half of the box [-2, 0.5] × [-1.125, 1.125] around the set.
// Row 0 lies on the real axis, where most points never leave: the first rows cost the most, the
// last ones a step or two per point.
inline long mandelbrot_row_steps(int row, int rows, int columns, int max_steps) {
  const double im = (row + 0.5) * 1.125 / rows;
  long total = 0;
  for (int column = 0; column < columns; ++column) {
    const double re = -2.0 + (column + 0.5) * 2.5 / columns;
    double zr = 0.0;
    double zi = 0.0;
    int step = 0;
    while (step < max_steps && zr * zr + zi * zi <= 4.0) {
      const double next_re = zr * zr - zi * zi + re;
      zi = 2.0 * zr * zi + im;
      zr = next_re;
      ++step;
    }
    total += step;
  }
  return total;
}

}  // namespace support
