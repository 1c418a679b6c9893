// Looks at a learner's kata folder for what would game the grade rather than solve the kata:
// files the manifest does not list (they are not compiled), and constructs a solution never
// needs (redefining GoogleTest's macros, reading the grader's command line or report path,
// defining sanitizer hooks, a main() of its own, including files from outside the kata, raw
// system calls, signalling the parent). Each finding is one plain sentence for the report.
// Findings change no verdict: they make an attempt visible to the learner and the instructor.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "manifest.hpp"

namespace tutor {

struct Finding {
  std::string text;
  // The tests cannot be trusted at all (GoogleTest's own macros were redefined): every test of
  // the kata is graded FAIL. A redefinition is always visible in the text (a #define names its
  // macro literally), so this never misfires on code that only looks alike.
  bool voids_tests = false;
};

// `code_dir`: katas/<dir> or solutions/<dir>; `shown_as`: how the report names that folder.
std::vector<Finding> inspect_kata_files(const Kata& kata, const std::filesystem::path& code_dir,
                                        const std::string& shown_as);

// The findings in one file's text (the part of inspect_kata_files that reads code). Comments
// are removed and continued lines joined first, as the preprocessor does.
std::vector<Finding> suspicious_constructs(const std::string& code);

}  // namespace tutor
