// Grading learners' checkouts against trusted tests, in one shared build.
//
// The build is a clean copy of the trusted course (tests, testkit, support code, manifest,
// build files; no solutions/). From each learner only the files the manifest lists for each
// kata are taken, so edited tests, extra files and includes of solutions/ do not count; each
// difference is flagged, never silently ignored. Every distinct version of a kata's files
// becomes a "variant" (a small course of that one kata, its files and its trusted test) built
// once, however many learners hand it in: in a class most katas come in a handful of versions
// (the starter, the solution, a few of each learner's own), so a class of ten builds about a
// quarter of what ten separate builds would. Each learner's tests still run on their own.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "grader.hpp"
#include "manifest.hpp"

namespace tutor {

// What one learner hands in, read (not yet built).
struct LearnerPlan {
  std::string name;
  std::filesystem::path checkout;
  std::map<std::string, std::map<std::string, std::string>> files;  // kata id -> file -> text
  std::vector<std::string> flags;                                   // about the checkout
  std::map<std::string, std::vector<std::string>> kata_flags;       // by kata id
};

// Reads a learner's checkout. A TutorError names what is wrong with it (missing, unreadable,
// not a checkout of this course).
LearnerPlan plan_learner(const std::filesystem::path& trusted, const Manifest& manifest,
                         const std::filesystem::path& checkout, const std::string& name);

class SharedBuild {
 public:
  // Writes the trusted tree and every variant the plans need under work_dir, configures the
  // build (once; later runs reuse it) and builds every variant, in parallel and past errors.
  SharedBuild(const std::filesystem::path& trusted, const Manifest& manifest,
              const std::vector<LearnerPlan>& plans, const std::filesystem::path& work_dir);

  // Grades one learner's katas; state (results) goes to state_dir.
  std::vector<KataResult> grade(const LearnerPlan& plan, const std::vector<const Kata*>& katas,
                                const std::filesystem::path& state_dir) const;

  std::size_t variants() const { return prefix_of_.size(); }

 private:
  std::string key(const std::string& kata_id,
                  const std::map<std::string, std::string>& files) const;
  std::filesystem::path work_dir_, build_dir_;
  std::map<std::string, std::string> prefix_of_;  // variant key -> target prefix
};

}  // namespace tutor
