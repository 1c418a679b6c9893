// Grades katas: builds each one on its own, runs every test in its own process, and collects a
// KataResult. One kata's compile error, crash or deadlock never stops the others.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "results.hpp"

namespace tutor {

struct Paths {
  std::filesystem::path source_dir;
  std::filesystem::path build_dir;

  // Binaries follow one convention, set by cmake/Kata.cmake:
  //   bin/kata.<id>, bin/solution.<id>, and the same with .tsan for flagged katas.
  std::filesystem::path binary(const std::string& target) const {
    return build_dir / "bin" / target;
  }
};

// "kata" grades the learner's files (katas/), "solution" the reference (solutions/).
enum class Variant { Kata, Solution };

std::string target_name(Variant variant, const Kata& kata, bool tsan = false);

// Builds what grading these katas needs, in parallel and past errors, so that each kata's own
// build afterwards is quick (and repeats only its own errors).
void prebuild(Variant variant, const std::vector<const Kata*>& katas, const Paths& paths,
              std::size_t katas_in_manifest);

struct GradeOptions {
  Variant variant = Variant::Kata;
  bool with_tsan = true;  // flagged katas: every test also runs under ThreadSanitizer
  bool stop_at_first_failure = false;
};

KataResult grade_kata(const Kata& kata, const Paths& paths, const GradeOptions& options);

// Builds everything first with keep-going (fast, in parallel), then grades kata by kata.
// `on_result` is called as each kata finishes, so a report can be printed as it goes.
std::vector<KataResult> grade_katas(const std::vector<const Kata*>& katas,
                                    std::size_t katas_in_manifest, const Paths& paths,
                                    const GradeOptions& options,
                                    const std::function<void(const KataResult&)>& on_result);

}  // namespace tutor
