// How grading results are shown and stored: a table on the terminal, results.json (schema
// documented in README.md, "results.json"), and JUnit XML for CI systems.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "results.hpp"

namespace tutor {

struct Totals {
  int tests_passed = 0;
  int tests_failed = 0;
  int katas_passed = 0;
  int katas_total = 0;
  double points = 0;
  int points_possible = 0;
};

Totals totals_of(const std::vector<KataResult>& katas);

class Table {
 public:
  explicit Table(std::FILE* out);
  void header() const;
  void row(const KataResult& kata) const;
  // Full messages of everything that did not pass.
  void details(const std::vector<KataResult>& katas) const;
  // What integrity checks flagged, kata by kata (nothing when nothing was flagged).
  void flags(const std::vector<KataResult>& katas) const;
  // Katas and points, then the closing line "N passed, N failed" (tests), which comes last.
  void totals(const std::vector<KataResult>& katas) const;

 private:
  std::FILE* out_;
  bool colour_;
};

// The closing line every runner prints: "N passed, N failed" (tests).
std::string closing_line(int passed, int failed);

std::string results_json(const std::vector<KataResult>& katas, const std::string& variant);
std::string junit_xml(const std::vector<KataResult>& katas);
// Writes atomically (a temporary file renamed over the target); a TutorError if it cannot.
void write_file(const std::filesystem::path& file, const std::string& text);

}  // namespace tutor
