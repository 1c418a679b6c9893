// `tutor grade --class <folder>`: every learner's checkout in <folder> graded against the
// trusted tests, several learners at once (bounded by the cores), each in a workspace of its
// own (workspace.hpp), each test in its sandbox: one learner's hang, crash or fork bomb costs
// only their own limits. The result is a class table (learner x kata points, totals) in the
// terminal, as CSV and as JSON, plus each learner's results.json; learners whose files were
// flagged are marked.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "results.hpp"

namespace tutor {

struct LearnerResult {
  std::string name;                // the checkout's folder name
  std::vector<KataResult> katas;   // empty when the checkout could not be graded
  std::vector<std::string> flags;  // about the checkout as a whole
  std::string error;               // why it could not be graded, if so
  std::filesystem::path results;   // its results.json
  double seconds = 0;

  bool flagged() const;
  double points() const;
};

struct ClassOptions {
  std::filesystem::path folder;    // one subfolder per learner
  std::filesystem::path trusted;   // the trusted course (tests, manifest, build files)
  std::filesystem::path work_dir;  // workspaces and reports go here
  std::string only_katas;          // "" = all; else "01a,02b"
};

// Grades the class; prints progress and the table; writes class.csv and class.json into
// work_dir. Returns the learners in name order.
std::vector<LearnerResult> grade_class(const ClassOptions& options);

// The reports, testable on their own.
std::string class_table(const std::vector<LearnerResult>& learners,
                        const std::vector<const Kata*>& katas);
std::string class_csv(const std::vector<LearnerResult>& learners,
                      const std::vector<const Kata*>& katas);
std::string class_json(const std::vector<LearnerResult>& learners,
                       const std::vector<const Kata*>& katas);

}  // namespace tutor
