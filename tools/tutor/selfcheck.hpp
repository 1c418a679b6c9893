// `make check`: the project's own test suite. Proves, for every kata, that the solution passes
// (each test alone, then repeated and shuffled, and under ThreadSanitizer where flagged) and
// that the starter builds and fails; runs every lesson demo in quick mode and the framework's
// own tests. Ends with "N passed, N failed".
#pragma once

#include "grader.hpp"
#include "manifest.hpp"

namespace tutor {

struct CheckOptions {
  int repeat = 20;        // --gtest_repeat for the repeated and the TSan runs
  std::string only_kata;  // empty: all
  bool skip_framework = false;
};

// Returns the process exit status: 0 when nothing failed.
int run_self_check(const Manifest& manifest, const Paths& paths, const CheckOptions& options);

}  // namespace tutor
