// Runs GoogleTest tests one by one, each in its own process with a time limit, and turns what
// happened into a TestResult with a message a learner can act on.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "results.hpp"
#include "subprocess.hpp"

namespace tutor {

// Test names ("Suite.Test") as the binary lists them. On failure returns nothing and sets
// *error. Kata code runs during the listing too, so it runs with the kata's limits and in the
// sandbox; what it lists is only compared with the test source, never trusted on its own.
std::vector<std::string> list_tests(const std::filesystem::path& binary, std::string* error,
                                    const Limits& limits = {});

// Test names read from the test source (TEST/TEST_F lines): the tests a kata is graded on.
// Kata code cannot change this list (a #define of TEST_F, a main of its own, a forged listing);
// a test it hides or renames is graded FAIL.
std::vector<std::string> tests_named_in_source(const std::filesystem::path& test_file);

struct TestRun {
  std::filesystem::path binary;
  std::string test;  // "Suite.Test"
  std::chrono::milliseconds timeout{10000};
  Limits limits;
  bool tsan = false;                    // the binary is built with -fsanitize=thread
  std::filesystem::path source_dir;     // to shorten paths in messages
  std::vector<std::string> extra_args;  // e.g. --gtest_repeat=20 --gtest_shuffle
  // Kata code runs in the sandbox; the project's own self-tests (trusted, and needing the
  // build folder, cgroups and sandboxes of their own) do not.
  bool sandbox = true;
  // An MPI kata (manifest "mpi_ranks"): the binary runs under mpirun on this many ranks, each
  // rank writes its own report (testkit/mpi_main.cpp), and the test passes only if it passed on
  // every rank. 0: the binary runs on its own.
  int mpi_ranks = 0;
};

TestResult run_test(const TestRun& run);

// The command line that starts `argv` on `ranks` ranks of this machine: mpirun with
// --oversubscribe (more ranks than cores is fine, and tests run side by side), --bind-to none
// (rank 0 of every test pinned to core 0 would share one core), only the shared-memory
// transports (vader for other ranks, self for one's own: no network is probed, and the sandbox
// has none), and --allow-run-as-root when `as_root` (mpirun refuses root without it).
std::vector<std::string> mpirun_command(const std::vector<std::string>& argv, int ranks,
                                        bool as_root);

// classify() for an MPI run: `reports` holds each rank's GoogleTest report (empty where a rank
// wrote none). A rank that failed an assertion is named first, even when the others were then
// stopped at the time limit (they were waiting for it); a rank without a result is said to be
// one; the test passes only if every rank passed it.
TestResult classify_ranks(const std::string& test, const RunResult& process,
                          const std::vector<std::string>& reports, const TestRun& run);

// The pure part of run_test, testable on its own: what a finished process and its GoogleTest
// JSON report (empty if none was written) mean.
TestResult classify(const std::string& test, const RunResult& process,
                    const std::string& gtest_json, const TestRun& run);

// Explains well-known runtime messages, e.g. "terminate called without an active exception".
std::string explain_output(const std::string& output);

// The ThreadSanitizer report in `output`, shortened to its headline and the learner's frames.
std::string summarize_tsan(const std::string& output, const std::filesystem::path& source_dir);

// Replaces "<source_dir>/" with "" so paths read as in the repository.
std::string shorten_paths(std::string text, const std::filesystem::path& source_dir);

}  // namespace tutor
