#include "selfcheck.hpp"

#include <fmt/color.h>
#include <fmt/format.h>

#include <algorithm>

#include "builder.hpp"
#include "gtest_runner.hpp"
#include "report.hpp"

namespace tutor {

namespace fs = std::filesystem;

namespace {

class Tally {
 public:
  void item(bool ok, const std::string& what, const std::string& why = "") {
    (ok ? passed_ : failed_)++;
    std::string mark = ok ? "ok  " : "FAIL";
    if (use_colour(stdout))
      mark = fmt::format(
          fmt::fg(ok ? fmt::terminal_color::green : fmt::terminal_color::red) | fmt::emphasis::bold,
          "{}", mark);
    fmt::print("  {} {}\n", mark, what);
    if (!ok && !why.empty()) {
      std::string indented = "         ";
      for (char c : why.substr(0, 1500)) {
        indented += c;
        if (c == '\n') indented += "         ";
      }
      fmt::print("{}\n", indented);
    }
    std::fflush(stdout);
  }
  int passed() const { return passed_; }
  int failed() const { return failed_; }

 private:
  int passed_ = 0;
  int failed_ = 0;
};

// One run of a whole test binary, repeated and shuffled in one process.
TestResult repeated_run(const fs::path& binary, const Kata& kata, int tests, int repeat, bool tsan,
                        const Paths& paths) {
  TestRun run;
  run.binary = binary;
  run.test = "*";
  run.extra_args = {fmt::format("--gtest_repeat={}", repeat), "--gtest_shuffle",
                    "--gtest_random_seed=0"};  // 0: a new seed each time, printed in the log
  const int slowdown = tsan ? 4 : 1;
  run.timeout = std::chrono::seconds(
      std::min(900, std::max(60, repeat * tests * kata.timeout_seconds * slowdown / 4)));
  run.limits = kata.limits;
  run.tsan = tsan;
  run.source_dir = paths.source_dir;
  return run_test(run);
}

void check_kata(const Kata& kata, const Paths& paths, const CheckOptions& options, Tally& tally) {
  fmt::print("\n{} {}\n", kata.id, kata.title);
  std::fflush(stdout);

  // 1. The solution passes every test, each alone in its own process.
  GradeOptions solution_options;
  solution_options.variant = Variant::Solution;
  solution_options.with_tsan = false;
  KataResult solution = grade_kata(kata, paths, solution_options);
  if (solution.status == Status::BuildError) {
    tally.item(false, fmt::format("solution of {} builds", kata.id), solution.message);
  }
  for (const auto& t : solution.tests)
    tally.item(t.status == Status::Pass,
               fmt::format("solution {} {} ({:.2f} s)", kata.id, t.name, t.seconds),
               status_name(t.status) + ": " + t.message);
  const int tests = static_cast<int>(solution.tests.size());

  // 2. ... and again, all in one process, repeated and shuffled: order must not matter.
  if (solution.status == Status::Pass) {
    TestResult r = repeated_run(paths.binary(target_name(Variant::Solution, kata)), kata, tests,
                                options.repeat, false, paths);
    tally.item(r.status == Status::Pass,
               fmt::format("solution {}: {} tests x{} shuffled in one process ({:.1f} s)", kata.id,
                           tests, options.repeat, r.seconds),
               status_name(r.status) + ": " + r.message);
  }

  // 3. Under ThreadSanitizer, repeated and shuffled.
  if (kata.tsan) {
    BuildResult b = build_targets(paths.build_dir, {target_name(Variant::Solution, kata, true)});
    if (!b.ok) {
      tally.item(false, fmt::format("solution {} builds with -fsanitize=thread", kata.id),
                 b.first_error);
    } else {
      TestResult r = repeated_run(paths.binary(target_name(Variant::Solution, kata, true)), kata,
                                  tests, options.repeat, true, paths);
      tally.item(r.status == Status::Pass,
                 fmt::format("solution {} under ThreadSanitizer: x{} shuffled ({:.1f} s)", kata.id,
                             options.repeat, r.seconds),
                 status_name(r.status) + ": " + r.message);
    }
  }

  // 4. The starter builds and fails at least one test: otherwise there is nothing to learn.
  GradeOptions starter_options;
  starter_options.variant = Variant::Kata;
  starter_options.with_tsan = true;
  KataResult starter = grade_kata(kata, paths, starter_options);
  if (starter.status == Status::BuildError) {
    tally.item(false, fmt::format("starter of {} compiles", kata.id),
               "a starter must compile (and fail its tests): " + starter.message);
  } else if (starter.status == Status::Pass) {
    tally.item(false, fmt::format("starter of {} fails at least one test", kata.id),
               fmt::format("every test passes on katas/{}/ — a learner would have nothing to do. "
                           "(If you solved the kata in this checkout, `make reset KATA={}` "
                           "brings the starter back.)",
                           kata.dir, kata.id));
  } else {
    tally.item(true, fmt::format("starter of {} compiles and fails {} of {} tests ({}: {})",
                                 kata.id, starter.failed(), starter.tests.size(),
                                 status_name(starter.status), one_line(starter.summary, 70)));
  }
}

void check_demos(const Manifest& manifest, const Paths& paths, Tally& tally) {
  fmt::print("\nlesson demos (--quick)\n");
  for (const auto& lesson : manifest.lessons) {
    const fs::path dir = paths.source_dir / "lessons" / lesson.dir;
    if (!fs::exists(dir)) continue;
    std::vector<fs::path> sources;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".cpp") sources.push_back(entry.path());
    std::sort(sources.begin(), sources.end());
    for (const auto& source : sources) {
      const std::string target = fmt::format("demo.{}.{}", lesson.id, source.stem().string());
      RunRequest request;
      request.argv = {paths.binary(target).string(), "--quick"};
      request.timeout = std::chrono::seconds(60);
      RunResult r = run_command(request);
      tally.item(r.ok(), fmt::format("{} --quick ({:.1f} s)", target, r.seconds),
                 r.timed_out ? "did not finish within 60 s" : r.output);
    }
  }
}

void check_framework(const Paths& paths, Tally& tally) {
  fmt::print("\nframework self-tests\n");
  for (const char* target : {"testkit_selftest", "testkit_selftest.tsan", "tutor_selftest"}) {
    const fs::path binary = paths.binary(target);
    std::string error;
    auto names = list_tests(binary, &error);
    if (names.empty()) {
      tally.item(false, fmt::format("{} lists its tests", target), error);
      continue;
    }
    for (const auto& name : names) {
      TestRun run;
      run.binary = binary;
      run.test = name;
      run.timeout = std::chrono::seconds(120);
      run.source_dir = paths.source_dir;
      run.tsan = std::string(target).ends_with(".tsan");
      TestResult r = run_test(run);
      tally.item(r.status == Status::Pass, fmt::format("{} {} ({:.2f} s)", target, name, r.seconds),
                 status_name(r.status) + ": " + r.message);
    }
  }
}

}  // namespace

int run_self_check(const Manifest& manifest, const Paths& paths, const CheckOptions& options) {
  Tally tally;
  fmt::print("manifest and layout\n");
  auto problems = validate_layout(manifest, paths.source_dir);
  std::string joined;
  for (const auto& p : problems) joined += p + "\n";
  tally.item(problems.empty(),
             fmt::format("curriculum.json: {} lessons, {} katas, every file in place",
                         manifest.lessons.size(), manifest.katas.size()),
             joined);

  fmt::print("\nbuilding everything (keep going past errors)\n");
  std::fflush(stdout);
  BuildResult all = build_targets(paths.build_dir, {"all"}, /*keep_going=*/true, /*jobs=*/2);
  // A starter is allowed to be wrong but not to break the build; errors show up per kata below.
  fmt::print("  build {} ({:.0f} s)\n", all.ok ? "ok" : "had errors (see below)", all.seconds);

  for (const auto& kata : manifest.katas) {
    if (!options.only_kata.empty() && kata.id != options.only_kata) continue;
    check_kata(kata, paths, options, tally);
  }
  if (options.only_kata.empty()) {
    check_demos(manifest, paths, tally);
    if (!options.skip_framework) check_framework(paths, tally);
  }
  fmt::print("\n{}\n", closing_line(tally.passed(), tally.failed()));
  return tally.failed() == 0 ? 0 : 1;
}

}  // namespace tutor
