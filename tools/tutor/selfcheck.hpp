// `make check` and `make stress`: the project's own test suite.
//
// check proves, for every kata, that the solution passes (each test alone, plain and under
// ThreadSanitizer where flagged; then whole shuffled runs with fresh seeds), that the starter
// builds and fails at least one test; that the repository keeps its conventions; that every
// lesson demo runs in quick mode; and that the framework's own tests pass. Katas are checked
// side by side (their test processes share the job slots) and reported in course order. It
// ends with its wall time, the five slowest katas, and "N passed, N failed".
//
// stress repeats shuffled runs of the solutions' tests (and TSan runs for flagged katas) as
// often as asked, side by side, and names the seed that reproduces any failure.
#pragma once

#include <string>

#include "grader.hpp"
#include "manifest.hpp"

namespace tutor {

struct CheckOptions {
  std::string only_kata;  // empty: everything
  int shuffled_runs = 3;  // whole-binary shuffled runs per solution (plain)
  int tsan_runs = 2;      // the same under ThreadSanitizer, for flagged katas
};

int run_self_check(const Manifest& manifest, const Paths& paths, const CheckOptions& options);

struct StressOptions {
  std::string katas;  // "01a,02b"; empty: all
  int repeat = 100;   // shuffled runs per kata (and as many under TSan for flagged katas)
};

int run_stress(const Manifest& manifest, const Paths& paths, const StressOptions& options);

}  // namespace tutor
