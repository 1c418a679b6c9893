// Grades katas: builds each one on its own, runs every test in its own process (several at
// once), and collects a KataResult. One kata's compile error, crash or deadlock never stops
// the others.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "results.hpp"

namespace tutor {

struct Paths {
  std::filesystem::path source_dir;  // the course: curriculum.json, katas/, solutions/, tests/
  std::filesystem::path build_dir;   // the CMake build folder with bin/
  std::filesystem::path state_dir;   // results.json, junit.xml, tutor-state.json, backups/
  std::string target_prefix;         // "" for the course; "course." for the tutor's fixture

  // Binaries follow one convention, set by cmake/Kata.cmake:
  //   bin/<prefix>kata.<id>, bin/<prefix>solution.<id>, and the same with .tsan for flagged
  //   katas. A plain binary's link also touches bin/<binary>.ready.
  std::filesystem::path binary(const std::string& target) const {
    return build_dir / "bin" / target;
  }
};

// "kata" grades the learner's files (katas/), "solution" the reference (solutions/).
enum class Variant { Kata, Solution };

std::string target_name(const Paths& paths, Variant variant, const Kata& kata, bool tsan = false);

// Builds what grading these katas needs, in parallel and past errors, so that each kata's own
// build afterwards is quick (and repeats only its own errors).
void prebuild(Variant variant, const std::vector<const Kata*>& katas, const Paths& paths,
              std::size_t katas_in_manifest);

struct GradeOptions {
  Variant variant = Variant::Kata;
  bool with_tsan = true;    // flagged katas: every test that passes runs again under TSan
  bool force_tsan = false;  // any kata, flagged or not (make test SANITIZE=thread)
  std::string only_test;    // one test ("Suite.Name" or "Name"); empty: all of them
  // The caller has just built, without an error, the binaries this grading runs (the plain
  // one, and its TSan twin when with_tsan applies), so grading skips its own build. `make
  // check` builds every kata once, ahead of its check.
  bool prebuilt = false;
};

// What grading reports while it goes: each test's verdict as it ends (the plain run first,
// then, for flagged katas, the ThreadSanitizer run, which can only turn a PASS into a FAIL).
struct GradeEvents {
  std::function<void(const std::string& note)> on_note;
  std::function<void(const TestResult& test, bool under_tsan)> on_test;
};

KataResult grade_kata(const Kata& kata, const Paths& paths, const GradeOptions& options,
                      const GradeEvents& events = {});

// Builds everything first with keep-going (fast, in parallel), then grades the katas, several
// at once. `on_result` is called in manifest order as the katas finish.
std::vector<KataResult> grade_katas(const std::vector<const Kata*>& katas,
                                    std::size_t katas_in_manifest, const Paths& paths,
                                    const GradeOptions& options,
                                    const std::function<void(const KataResult&)>& on_result);

}  // namespace tutor
