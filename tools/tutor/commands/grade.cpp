// `make test [KATA=01a[,02b]] [TEST=Name]`: grades the learner's katas.
//
// One kata: every test's verdict is printed the moment it ends (tests run several at once),
// the plain run first and then, for race katas, the ThreadSanitizer run; then the headline
// failure in full. Several katas: one table row per kata, in course order. Both end with the
// totals and the closing line "N passed, N failed", and write results.json and junit.xml.
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "../class_grading.hpp"
#include "../commands.hpp"
#include "../console.hpp"
#include "../errors.hpp"
#include "../jobs.hpp"
#include "../report.hpp"
#include "../state.hpp"
#include "../workspace.hpp"

namespace tutor {

namespace {

namespace fs = std::filesystem;

struct GradeArgs {
  std::string katas;
  std::string test;
  std::string tests_from;  // a trusted checkout whose tests, manifest and build files count
  std::string class_folder;
  std::string sanitize;  // "thread": every kata's passing tests run again under TSan
};

void print_test_line(const TestResult& t, bool under_tsan) {
  const std::string status = fmt::format("{:<7}", status_name(t.status));
  std::string line = fmt::format("  {} {}{}", coloured_status(t.status, status), t.name,
                                 under_tsan ? " (ThreadSanitizer)" : "");
  if (t.status != Status::Pass)
    line += ": " + one_line(t.summary.empty() ? t.message : t.summary, 110);
  fmt::print("{} ({:.1f} s)\n", line, t.seconds);
  std::fflush(stdout);
}

void remember(Context& context, const std::vector<KataResult>& results) {
  State state(context.paths.state_dir / "tutor-state.json");
  for (const auto& r : results) state.set_last_status(r.id, status_name(r.status));
  state.save();
}

void write_reports(Context& context, const std::vector<KataResult>& results) {
  const auto json_file = context.paths.state_dir / "results.json";
  const auto junit_file = context.paths.state_dir / "junit.xml";
  write_file(json_file, results_json(results, "katas"));
  write_file(junit_file, junit_xml(results));
  fmt::print("\nReports: {} and {}\n", json_file.string(), junit_file.string());
}

int grade_one(Context& context, const Kata& kata, const std::string& test, bool force_tsan) {
  fmt::print("{}\n", bold(fmt::format("Kata {} · {}", kata.id, kata.title)));
  const std::string blind_spot = kata.tsan_blind_spot();
  fmt::print("  katas/{}/{}{}\n", kata.dir, kata.files.front(),
             kata.tsan ? "   (a race kata: tests that pass run again under ThreadSanitizer, "
                         "which can only turn a PASS into a FAIL)"
             : force_tsan && blind_spot.empty()
                 ? "   (SANITIZE=thread: tests that pass run again under ThreadSanitizer, which "
                   "can only turn a PASS into a FAIL)"
                 : "");
  if (force_tsan && !blind_spot.empty()) {
    fmt::print(
        "  SANITIZE=thread is left out for this kata: ThreadSanitizer sees only code built for "
        "it, and Debian's {} library is not, so TSan would miss its synchronisation and report "
        "races in correct code. The tests themselves look for the races that matter here.\n",
        blind_spot);
  }
  std::fflush(stdout);
  // Every test of this kata at once, however many: most of them wait, and a kata whose code
  // hangs then costs one deadline, not one per test.
  JobSlots::set_size(64);
  GradeOptions options;
  options.only_test = test;
  options.force_tsan = force_tsan;
  GradeEvents events;
  bool tsan_heading = false;
  events.on_note = [](const std::string& note) {
    fmt::print("  {}\n", note);
    std::fflush(stdout);
  };
  events.on_test = [&](const TestResult& t, bool under_tsan) {
    if (under_tsan && !tsan_heading) {
      tsan_heading = true;
      fmt::print("  under ThreadSanitizer:\n");
    }
    print_test_line(t, under_tsan);
  };
  KataResult result = grade_kata(kata, context.paths, options, events);
  std::vector<KataResult> results{result};
  if (result.status == Status::BuildError) {
    fmt::print("\n  {} — the kata does not compile:\n{}\n",
               coloured_status(result.status, "BUILD ERROR"), wrap(result.message, 200, "    "));
  } else if (result.status != Status::Pass) {
    std::string indented = "    ";
    for (char c : result.message.substr(0, 2500)) {
      indented += c;
      if (c == '\n') indented += "    ";
    }
    // The headline is one test's failure: label it with that test's status (a FAIL chosen as
    // the most telling stays a FAIL even when another test of the kata timed out).
    Status shown = result.status;
    for (const TestResult& t : result.tests) {
      if (result.message.rfind(t.name + ": ", 0) == 0) shown = t.status;
    }
    fmt::print("\n  What tells most ({}):\n{}\n", status_name(shown), indented);
  }
  fmt::print("\n");
  if (!test.empty()) {
    // One test alone is not the kata's grade: a row "PASS 1/1 10/10" would read as one, and
    // `make list` or results.json (which an instructor may collect) would keep it.
    fmt::print(
        "Only this test ran (TEST={}), so this is not kata {}'s grade: `make list` and the "
        "reports in build/ are as the last full grading left them. `make test KATA={}` grades "
        "every test of the kata.\n",
        test, kata.id, kata.id);
    fmt::print("{}\n", closing_line(result.passed(),
                                    static_cast<int>(result.tests.size()) - result.passed()));
    return result.status == Status::Pass ? 0 : 1;
  }
  Table table(stdout);
  table.header();
  table.row(result);
  table.flags(results);
  remember(context, results);
  write_reports(context, results);
  table.totals(results);
  if (result.status != Status::Pass) fmt::print("Stuck? make hint KATA={}\n", kata.id);
  return result.status == Status::Pass ? 0 : 1;
}

int grade_many(Context& context, const std::vector<const Kata*>& katas, bool force_tsan) {
  fmt::print(
      "Grading {} kata(s) in katas/: each test alone, with its time limit (race katas also "
      "under ThreadSanitizer).\n",
      katas.size());
  if (force_tsan)
    fmt::print(
        "SANITIZE=thread: every kata's passing tests run again under ThreadSanitizer, except "
        "the katas on oneTBB, OpenMP or MPI, whose libraries TSan cannot see into.\n");
  fmt::print("\n");
  Table table(stdout);
  table.header();
  GradeOptions options;
  options.force_tsan = force_tsan;
  auto results = grade_katas(katas, context.manifest().katas.size(), context.paths, options,
                             [&](const KataResult& k) { table.row(k); });
  table.details(results);
  table.flags(results);
  remember(context, results);
  write_reports(context, results);
  table.totals(results);
  return totals_of(results).tests_failed == 0 ? 0 : 1;
}

// The learner's checkout (this course) graded against a trusted checkout's tests.
int grade_against_trusted(Context& context, const fs::path& trusted, const std::string& wanted) {
  const Manifest manifest = load_manifest(trusted / "curriculum.json");
  const auto katas = select_katas(manifest, wanted);
  fmt::print(
      "Grading the katas of {} against the trusted tests of {}: only the files curriculum.json "
      "lists for each kata are taken from the checkout.\n\n",
      context.paths.source_dir.string(), trusted.string());
  std::fflush(stdout);
  const LearnerPlan plan = plan_learner(trusted, manifest, context.paths.source_dir, "");
  const SharedBuild build(trusted, manifest, {plan}, context.paths.state_dir / "trusted-grading");
  auto results = build.grade(plan, katas, context.paths.state_dir / "trusted-grading");
  Table table(stdout);
  table.header();
  for (const auto& r : results) table.row(r);
  table.details(results);
  for (const auto& flag : plan.flags) fmt::print("\nFlagged: {}", flag);
  table.flags(results);
  write_reports(context, results);
  table.totals(results);
  return totals_of(results).tests_failed == 0 ? 0 : 1;
}

}  // namespace

void add_grade_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<GradeArgs>();
  auto* command = app.add_subcommand("grade", "grade the katas (make test)");
  command->add_option("--kata", args->katas, "one kata id, or several separated by commas");
  command->add_option("--test", args->test, "one test of that kata (its name)");
  command->add_option("--tests-from", args->tests_from,
                      "grade against this trusted checkout's tests (only the kata files count)");
  command->add_option("--sanitize", args->sanitize,
                      "thread: run every kata's passing tests again under ThreadSanitizer");
  command->add_option("--class", args->class_folder,
                      "grade every learner's checkout in this folder (against --tests-from, "
                      "else this course)");
  command->callback([&context, args] {
    if (!args->class_folder.empty()) {
      ClassOptions options;
      options.folder = args->class_folder;
      options.trusted =
          args->tests_from.empty() ? context.paths.source_dir : fs::path(args->tests_from);
      options.work_dir = context.paths.state_dir / "class";
      options.only_katas = args->katas;
      const auto learners = grade_class(options);
      const bool all_graded = std::all_of(learners.begin(), learners.end(),
                                          [](const auto& l) { return l.error.empty(); });
      context.exit_code = all_graded ? 0 : 1;
      return;
    }
    if (!args->tests_from.empty()) {
      context.exit_code = grade_against_trusted(context, args->tests_from, args->katas);
      return;
    }
    auto katas = select_katas(context.manifest(), args->katas);
    if (!args->test.empty() && katas.size() != 1)
      throw TutorError("TEST= names a test of one kata",
                       "Say which kata too: make test KATA=02a TEST=LeavesNoZombiesBehind");
    if (!args->sanitize.empty() && args->sanitize != "thread")
      throw TutorError(fmt::format("SANITIZE={} is not a sanitizer the tutor runs", args->sanitize),
                       "Use SANITIZE=thread (ThreadSanitizer: data races and lock-order "
                       "inversions).");
    const bool force_tsan = args->sanitize == "thread";
    context.exit_code = katas.size() == 1
                            ? grade_one(context, *katas.front(), args->test, force_tsan)
                            : grade_many(context, katas, force_tsan);
  });
}

}  // namespace tutor
