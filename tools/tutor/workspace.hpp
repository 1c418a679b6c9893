// Grading a learner's checkout against trusted tests. A workspace is a clean copy of the
// trusted course (tests, testkit, support code, manifest, build files, the starters) into which
// only the files the manifest lists for each kata are copied from the learner's checkout; it
// has no solutions/. Edited tests, extra files and includes of solutions/ therefore do not
// count, and each difference is flagged, never silently ignored. The workspace keeps its build
// folder, so grading the same learner again rebuilds only what changed.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "grader.hpp"
#include "manifest.hpp"

namespace tutor {

struct Workspace {
  Paths paths;                                                 // the assembled tree and its build
  std::vector<std::string> flags;                              // about the checkout as a whole
  std::map<std::string, std::vector<std::string>> kata_flags;  // by kata id
};

// Assembles (or refreshes) the workspace of `learner` in `work_dir` from `trusted`, and
// configures its build. A TutorError names what is wrong with the learner's folder or the
// trusted one (missing, unreadable, not a checkout of this course).
Workspace prepare_workspace(const std::filesystem::path& trusted, const Manifest& manifest,
                            const std::filesystem::path& learner,
                            const std::filesystem::path& work_dir);

// Grades the katas of a prepared workspace, adding its flags to the results.
std::vector<KataResult> grade_workspace(const Workspace& workspace,
                                        const std::vector<const Kata*>& katas,
                                        std::size_t katas_in_manifest);

}  // namespace tutor
