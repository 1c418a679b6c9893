// What grading found: one TestResult per GoogleTest test, one KataResult per kata.
#pragma once

#include <string>
#include <vector>

namespace tutor {

enum class Status { Pass, Fail, Timeout, Crash, BuildError, NotRun };

// "PASS", "FAIL", "TIMEOUT", "CRASH", "BUILD ERROR", "NOT RUN": the words of the report.
std::string status_name(Status status);

struct TestResult {
  std::string name;  // "Suite.Test"
  Status status = Status::NotRun;
  std::string message;  // what went wrong, in full (empty on PASS)
  std::string summary;  // one line of it, for the table
  double seconds = 0;
  bool explained = false;  // the message names a cause (a testkit note, a known runtime message)
  bool refused = false;    // testkit refused a call (kill(-1), kill(0)): that names the bug
};

struct KataResult {
  std::string id;
  std::string title;
  std::string lesson;
  std::string file;  // what the learner edits, e.g. katas/01a-spawn-and-join/spawn_and_join.hpp
  Status status = Status::NotRun;
  std::string message;  // the first failure (or the first compiler error), in full
  std::string summary;  // one line of it
  std::vector<TestResult> tests;
  double seconds = 0;
  int points_possible = 0;
  double points = 0;  // earned: points_possible * passed / total
  // What an instructor should look at (an edited test, a file the manifest does not list, a
  // construct that tampers with grading, a test the binary listed that the source lacks). A
  // flag changes no verdict: it makes an attempt to game the grade visible.
  std::vector<std::string> flags;

  int passed() const;
  int failed() const;  // every test that is not PASS, including NOT RUN after a build error
};

// The kata's status from its tests: CRASH if any crashed, else TIMEOUT if any timed out,
// else FAIL if any failed, else PASS. (BUILD ERROR is decided before any test runs.)
Status overall_status(const std::vector<TestResult>& tests);

// Sets status, message, summary and points of `kata` from its tests. The message is the
// headline: the failure that says most about the bug. A note from testkit about a call it
// refused comes first; then failed assertions (written by the test's author for this very
// mistake); then TIMEOUTs and CRASHes the tests or the tutor could explain; bare TIMEOUTs and
// CRASHes last. Within a rank, tests named in `headline_first` (the manifest's list, most
// telling first) come before the rest, which keep their order in the test file.
void finish_kata(KataResult& kata, const std::vector<std::string>& headline_first = {});

// How telling a failed test's message is (lower: more telling); see finish_kata.
int headline_rank(const TestResult& test);

// The first line worth showing of a long message (trimmed to `width` characters).
std::string one_line(const std::string& text, std::size_t width = 100);

}  // namespace tutor
