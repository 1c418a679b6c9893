#include "grader.hpp"

#include <fmt/format.h>

#include "builder.hpp"
#include "gtest_runner.hpp"

namespace tutor {

std::string target_name(Variant variant, const Kata& kata, bool tsan) {
  return fmt::format("{}.{}{}", variant == Variant::Kata ? "kata" : "solution", kata.id,
                     tsan ? ".tsan" : "");
}

void prebuild(Variant variant, const std::vector<const Kata*>& katas, const Paths& paths,
              std::size_t katas_in_manifest) {
  if (katas.size() <= 1) return;  // grade_kata builds a single kata itself
  const std::string side = variant == Variant::Kata ? "kata" : "solution";
  std::vector<std::string> goals;
  if (katas.size() == katas_in_manifest) {
    goals.push_back(side + "s.all");
  } else {
    for (const Kata* kata : katas) goals.push_back(side + "." + kata->id + ".both");
  }
  build_targets(paths.build_dir, goals, /*keep_going=*/true, /*jobs=*/2);
}

KataResult grade_kata(const Kata& kata, const Paths& paths, const GradeOptions& options) {
  KataResult result;
  result.id = kata.id;
  result.title = kata.title;
  result.lesson = kata.lesson;
  result.points_possible = kata.points;
  result.file = fmt::format("{}/{}/{}", options.variant == Variant::Kata ? "katas" : "solutions",
                            kata.dir, kata.files.front());
  const bool tsan = options.with_tsan && kata.tsan;

  if (!std::filesystem::exists(paths.source_dir / kata.test_file())) {
    result.status = Status::BuildError;
    result.message = result.summary = kata.test_file() + " is missing";
    finish_kata(result);
    return result;
  }

  // The authoritative build of this kata alone: its exit status decides BUILD ERROR, whatever
  // an earlier keep-going build left behind.
  // With TSan, the `.both` target builds the plain and the TSan binary side by side.
  const std::string target =
      tsan ? target_name(options.variant, kata) + ".both" : target_name(options.variant, kata);
  BuildResult build = build_targets(paths.build_dir, {target}, /*keep_going=*/false, /*jobs=*/2);
  result.seconds += build.seconds;
  if (!build.ok) {
    result.status = Status::BuildError;
    result.message = build.first_error;
    result.summary = one_line(build.first_error.substr(0, build.first_error.find('\n')), 100);
    for (const auto& name : tests_named_in_source(paths.source_dir / kata.test_file())) {
      TestResult t;
      t.name = name;
      t.status = Status::NotRun;
      t.message = t.summary = "not run: the kata did not compile";
      result.tests.push_back(t);
    }
    finish_kata(result);  // keeps BUILD ERROR, counts the tests as not run
    return result;
  }

  const auto binary = paths.binary(target_name(options.variant, kata));
  std::string error;
  const auto names = list_tests(binary, &error);
  if (names.empty()) {
    TestResult t;
    t.name = kata.id + ".list";
    t.status = Status::Crash;
    t.message = error.empty() ? "the test program lists no tests" : error;
    t.summary = one_line(t.message);
    result.tests.push_back(t);
  }
  for (const auto& name : names) {
    TestRun run;
    run.binary = binary;
    run.test = name;
    run.timeout = std::chrono::seconds(kata.timeout_seconds);
    run.limits = kata.limits;
    run.source_dir = paths.source_dir;
    TestResult t = run_test(run);
    if (t.status == Status::Pass && tsan) {
      // The same test again, watched by ThreadSanitizer: a race fails it even when the
      // numbers happened to come out right this time.
      run.binary = paths.binary(target_name(options.variant, kata, true));
      run.tsan = true;
      run.timeout = std::chrono::seconds(kata.timeout_seconds * 3);  // TSan runs slower
      TestResult under_tsan = run_test(run);
      if (under_tsan.status != Status::Pass) {
        t = under_tsan;
        if (t.message.rfind("ThreadSanitizer", 0) != 0) {
          t.message = "under ThreadSanitizer: " + t.message;
          t.summary = "under TSan: " + t.summary;
        }
      }
      t.seconds += under_tsan.seconds;
    }
    result.seconds += t.seconds;
    result.tests.push_back(t);
    if (options.stop_at_first_failure && t.status != Status::Pass) break;
  }
  finish_kata(result);
  return result;
}

std::vector<KataResult> grade_katas(const std::vector<const Kata*>& katas,
                                    std::size_t katas_in_manifest, const Paths& paths,
                                    const GradeOptions& options,
                                    const std::function<void(const KataResult&)>& on_result) {
  // A kata that fails to build is built again, alone, by grade_kata: that gives its own error.
  prebuild(options.variant, katas, paths, katas_in_manifest);
  std::vector<KataResult> results;
  for (const Kata* kata : katas) {
    results.push_back(grade_kata(*kata, paths, options));
    if (on_result) on_result(results.back());
  }
  return results;
}

}  // namespace tutor
