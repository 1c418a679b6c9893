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
// *error.
std::vector<std::string> list_tests(const std::filesystem::path& binary, std::string* error);

// Test names read from the test source (TEST/TEST_F lines), for a kata that did not build:
// the report still names every test it could not run.
std::vector<std::string> tests_named_in_source(const std::filesystem::path& test_file);

struct TestRun {
  std::filesystem::path binary;
  std::string test;  // "Suite.Test"
  std::chrono::milliseconds timeout{10000};
  Limits limits;
  bool tsan = false;                    // the binary is built with -fsanitize=thread
  std::filesystem::path source_dir;     // to shorten paths in messages
  std::vector<std::string> extra_args;  // e.g. --gtest_repeat=20 --gtest_shuffle
};

TestResult run_test(const TestRun& run);

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
