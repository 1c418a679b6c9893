#include "selfcheck.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>

#include "builder.hpp"
#include "console.hpp"
#include "conventions.hpp"
#include "gtest_runner.hpp"
#include "jobs.hpp"
#include "report.hpp"

namespace tutor {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// What one kata's check may cost, in seconds of test processes (see Block::cost). With 6 slots
// per core on 2 cores, forty katas at this cost take 40 * 40 / 12 = ~135 s of checks.
constexpr double kBudgetSeconds = 40;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The lines of one part of the report (a kata, the demos...), collected while it runs.
struct Block {
  std::string title;
  std::vector<std::pair<bool, std::string>> items;  // ok, text (with details when failed)
  int silent_passes = 0;  // counted in the closing line, not printed (stress folds its runs)
  double seconds = 0;
  // A kata's cost: the seconds its test processes ran, added up (solution, shuffled runs,
  // starter). The side-by-side wall time above mostly measures waiting for a free slot.
  double cost = 0;

  void item(bool ok, const std::string& what, const std::string& why = "") {
    std::string text = what;
    std::string_view details = why;
    while (!details.empty() && (details.back() == '\n' || details.back() == ' '))
      details.remove_suffix(1);
    if (!ok && !details.empty()) {
      std::string indented = "\n         ";
      for (char c : details.substr(0, 1500)) {
        indented += c;
        if (c == '\n') indented += "         ";
      }
      text += indented;
    }
    items.emplace_back(ok, text);
  }
};

// Prints blocks in their order while they finish out of order; counts the items.
class OrderedReport {
 public:
  explicit OrderedReport(std::size_t blocks) : blocks_(blocks), done_(blocks, false) {}

  void finish(std::size_t index, Block block) {
    std::lock_guard lock(mutex_);
    blocks_[index] = std::move(block);
    done_[index] = true;
    while (printed_ < blocks_.size() && done_[printed_]) print(blocks_[printed_++]);
  }
  int passed() const { return passed_; }
  int failed() const { return failed_; }

 private:
  void print(const Block& block) {
    passed_ += block.silent_passes;
    if (!block.title.empty()) fmt::print("\n{}\n", block.title);
    for (const auto& [ok, text] : block.items) {
      (ok ? passed_ : failed_)++;
      fmt::print("  {} {}\n",
                 ok ? coloured_status(Status::Pass, "ok  ") : coloured_status(Status::Fail, "FAIL"),
                 text);
    }
    std::fflush(stdout);
  }

  std::mutex mutex_;
  std::vector<Block> blocks_;
  std::vector<bool> done_;
  std::size_t printed_ = 0;
  int passed_ = 0;
  int failed_ = 0;
};

struct ShuffledRun {
  unsigned seed = 0;
  TestResult result;
};

// `runs` whole runs of a test binary, each shuffled with its own fresh seed, side by side.
std::vector<ShuffledRun> shuffled_runs(const fs::path& binary, const Kata& kata, int tests,
                                       int runs, bool tsan, const Paths& paths) {
  static std::mutex seed_mutex;
  static std::mt19937 seeds{std::random_device{}()};
  std::vector<ShuffledRun> out(static_cast<std::size_t>(runs));
  {
    std::lock_guard lock(seed_mutex);
    for (auto& r : out) r.seed = 1 + seeds() % 99999;
  }
  parallel_for(out.size(), out.size(), [&](std::size_t i) {
    TestRun run;
    run.binary = binary;
    run.test = "*";
    run.extra_args = {"--gtest_shuffle", fmt::format("--gtest_random_seed={}", out[i].seed)};
    // A bound for the whole run: every test may use its own limit (TSan runs ~3x slower).
    run.timeout =
        std::chrono::seconds(std::min(900, tests * kata.timeout_seconds * (tsan ? 3 : 1)));
    run.limits = kata.limits;
    run.mpi_ranks = kata.mpi_ranks;
    run.tsan = tsan;
    run.source_dir = paths.source_dir;
    JobSlots::Held slot(JobSlots::shared());
    out[i].result = run_test(run);
  });
  return out;
}

std::string seeds_of(const std::vector<ShuffledRun>& runs) {
  std::string text;
  for (const auto& r : runs) text += (text.empty() ? "" : ", ") + std::to_string(r.seed);
  return text;
}

// One line per failed run, with the command that repeats it.
std::string failed_runs(const std::vector<ShuffledRun>& runs, const fs::path& binary) {
  std::string text;
  for (const auto& r : runs) {
    if (r.result.status == Status::Pass) continue;
    text += fmt::format("seed {}: {}: {}\n  reproduce: {} --gtest_shuffle --gtest_random_seed={}\n",
                        r.seed, status_name(r.result.status), one_line(r.result.message, 300),
                        binary.string(), r.seed);
  }
  return text;
}

// After a save the tutor builds, beside the learner's test program, one with only the test
// file's first test in it, and runs that test early (testkit/first_test_only.hpp). Empty when
// that program has exactly that test; else what it has instead.
std::string first_test_mismatch(const Kata& kata, const Paths& paths) {
  std::string error;
  const std::vector<std::string> listed = list_tests(
      paths.binary(target_name(paths, Variant::Kata, kata) + ".first"), &error, kata.limits);
  if (!error.empty()) return error;
  const std::vector<std::string> named = tests_named_in_source(paths.source_dir / kata.test_file());
  if (!named.empty() && listed == std::vector<std::string>{named.front()}) return "";
  return fmt::format(
      "the program of the first test alone should list {} and nothing else; it "
      "lists: {} (see tests/support/testkit/first_test_only.hpp)",
      named.empty() ? "the file's first test" : named.front(),
      listed.empty() ? "nothing" : fmt::format("{}", fmt::join(listed, ", ")));
}

Block check_kata(const Kata& kata, const Paths& paths, const CheckOptions& options, bool prebuilt) {
  const auto started = Clock::now();
  Block block;
  block.title = fmt::format("{} {}", kata.id, kata.title);

  // 1. The solution passes every test, each alone in its own process. Plain only: the whole
  // runs under TSan below run every test again there (twice, shuffled). A third TSan run of
  // each test alone cost about a fifth of the checks' CPU (a TSan process starts in ~40 ms of
  // page faults on this kind of virtual machine) and could only repeat what those two show.
  GradeOptions solution_options;
  solution_options.variant = Variant::Solution;
  solution_options.prebuilt = prebuilt;
  solution_options.with_tsan = false;
  KataResult solution = grade_kata(kata, paths, solution_options);
  if (solution.status == Status::BuildError)
    block.item(false, fmt::format("solution of {} builds without a warning", kata.id),
               solution.message);
  else
    for (const auto& t : solution.tests)
      block.item(t.status == Status::Pass, fmt::format("solution {} ({:.2f} s)", t.name, t.seconds),
                 status_name(t.status) + ": " + t.message);
  const int tests = static_cast<int>(solution.tests.size());
  for (const auto& t : solution.tests) block.cost += t.seconds;

  // 2. ... and again, whole runs shuffled with fresh seeds: order must not matter; for a race
  // kata, also under ThreadSanitizer.
  if (solution.status == Status::Pass) {
    for (bool tsan : {false, true}) {
      if (tsan && !kata.tsan) continue;
      const int runs = tsan ? options.tsan_runs : options.shuffled_runs;
      if (runs <= 0) continue;
      const auto binary = paths.binary(target_name(paths, Variant::Solution, kata, tsan));
      const auto run_started = Clock::now();
      const auto results = shuffled_runs(binary, kata, tests, runs, tsan, paths);
      for (const auto& r : results) block.cost += r.result.seconds;
      const std::string failures = failed_runs(results, binary);
      block.item(failures.empty(),
                 fmt::format("solution {}: {} whole runs shuffled{} (seeds {}; {:.1f} s)", kata.id,
                             runs, tsan ? " under ThreadSanitizer" : "", seeds_of(results),
                             seconds_since(run_started)),
                 failures);
    }
  }

  // 3. The starter builds and fails at least one test: otherwise there is nothing to learn.
  // Plain only: a starter needs to fail one test to give the learner something to do, and a
  // TSan pass can only turn more of its passes into failures. Skipping its TSan build and runs
  // saves about a sixth of `make check`; the learner's `make test` still runs them.
  GradeOptions starter_options;
  starter_options.prebuilt = prebuilt;
  starter_options.with_tsan = false;
  KataResult starter = grade_kata(kata, paths, starter_options);
  for (const auto& t : starter.tests) block.cost += t.seconds;
  if (starter.status == Status::BuildError) {
    block.item(false, fmt::format("starter of {} compiles", kata.id),
               "a starter must compile (and fail its tests): " + starter.message);
  } else if (starter.status == Status::Pass) {
    block.item(false, fmt::format("starter of {} fails at least one test", kata.id),
               fmt::format("every test passes on katas/{}/: a learner would have nothing to do. "
                           "(If you solved the kata in this checkout, `make reset KATA={}` brings "
                           "the starter back.)",
                           kata.dir, kata.id));
  } else if (const std::string odd = first_test_mismatch(kata, paths); !odd.empty()) {
    block.item(false, fmt::format("starter of {}: its first test builds alone", kata.id), odd);
  } else {
    block.item(
        true,
        fmt::format("starter of {} compiles and fails {} of {} tests ({}: {}; {:.1f} s)", kata.id,
                    starter.failed(), starter.tests.size(), status_name(starter.status),
                    one_line(starter.summary, 70), starter.seconds));
  }
  block.seconds = seconds_since(started);
  block.title += fmt::format("  ({:.1f} s; cost {:.0f} s)", block.seconds, block.cost);
  return block;
}

Block check_demos(const Manifest& manifest, const Paths& paths) {
  Block block;
  block.title = "lesson demos (--quick)";
  std::vector<std::string> targets;
  for (const auto& lesson : manifest.lessons) {
    const fs::path dir = paths.source_dir / "lessons" / lesson.dir;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".cpp")
        targets.push_back(fmt::format("demo.{}.{}", lesson.id, entry.path().stem().string()));
  }
  std::sort(targets.begin(), targets.end());
  std::vector<RunResult> results(targets.size());
  parallel_for(targets.size(), targets.size(), [&](std::size_t i) {
    RunRequest request;
    request.argv = {paths.binary(targets[i]).string(), "--quick"};
    request.timeout = std::chrono::seconds(60);
    JobSlots::Held slot(JobSlots::shared());
    results[i] = run_command(request);
  });
  for (std::size_t i = 0; i < targets.size(); ++i)
    block.item(results[i].ok(),
               fmt::format("{} --quick ({:.1f} s)", targets[i], results[i].seconds),
               results[i].timed_out ? "did not finish within 60 s" : results[i].output);
  return block;
}

Block check_framework(const Paths& paths) {
  Block block;
  block.title = "framework self-tests";
  // The tutor's tests each alone (they take seconds, and run side by side); the testkit's in one
  // shuffled run per binary: started one by one, its ~100 short tests cost ~14 s of CPU under
  // ThreadSanitizer (each process starts TSan again) against ~2 s in one process.
  struct One {
    std::string target, test;
    TestResult result;
    std::size_t tests = 1;
    unsigned seed = 0;
  };
  std::vector<One> all;
  std::mt19937 seeds{std::random_device{}()};
  for (const char* target : {"testkit_selftest", "testkit_selftest.tsan", "tutor_selftest"}) {
    std::string error;
    auto names = list_tests(paths.binary(target), &error);
    if (names.empty()) {
      block.item(false, fmt::format("{} lists its tests", target), error);
      continue;
    }
    if (std::string_view(target).starts_with("testkit")) {
      all.push_back({target, "*", {}, names.size(), 1 + static_cast<unsigned>(seeds() % 99999)});
      continue;
    }
    for (auto& name : names) all.push_back({target, name, {}});
  }
  parallel_for(all.size(), all.size(), [&](std::size_t i) {
    TestRun run;
    run.binary = paths.binary(all[i].target);
    run.test = all[i].test;
    run.timeout = std::chrono::seconds(300);  // a bound: the watch tests wait up to 150 s
    run.source_dir = paths.source_dir;
    run.tsan = all[i].target.ends_with(".tsan");
    run.sandbox = false;  // trusted code that needs the build folder and cgroups
    if (all[i].seed != 0)
      run.extra_args = {"--gtest_shuffle", fmt::format("--gtest_random_seed={}", all[i].seed)};
    JobSlots::Held slot(JobSlots::shared());
    all[i].result = run_test(run);
  });
  for (const auto& one : all) {
    const std::string what =
        one.seed == 0 ? fmt::format("{} {} ({:.2f} s)", one.target, one.test, one.result.seconds)
                      : fmt::format("{}: its {} tests in one shuffled run (seed {}; {:.2f} s)",
                                    one.target, one.tests, one.seed, one.result.seconds);
    std::string why = status_name(one.result.status) + ": " + one.result.message;
    if (one.seed != 0 && one.result.status != Status::Pass)
      why += fmt::format("\nreproduce: {} --gtest_shuffle --gtest_random_seed={}",
                         paths.binary(one.target).string(), one.seed);
    block.item(one.result.status == Status::Pass, what, why);
  }
  return block;
}

Block check_repository(const Manifest& manifest, const Paths& paths) {
  Block block;
  block.title = "conventions (CONTRIBUTING.md)";
  for (const auto& c : check_conventions(manifest, paths.source_dir)) {
    std::string why;
    for (const auto& p : c.problems) why += p + "\n";
    block.item(c.problems.empty(), c.rule, why);
  }
  return block;
}

}  // namespace

int run_self_check(const Manifest& manifest, const Paths& paths, const CheckOptions& options) {
  const auto started = Clock::now();
  // Empty: every kata; else "01a" or "01a,02b" (an unknown id is a TutorError naming the known).
  const std::vector<const Kata*> katas = select_katas(manifest, options.only_kata);
  const bool everything = options.only_kata.empty();

  // Everything is built first, in one run of the build tool on every core, and then checked,
  // every part side by side. Checking parts while the rest was still building saved nothing
  // measurable on 2 cores (fresh clone, 18 katas: 226-248 s with the overlap, 233-269 s
  // without; the build is CPU-bound and the checks' processes slow it), and this is simpler:
  // one build, and no waiting for the build folder between the build and the checks' own.
  std::vector<std::string> targets;
  if (everything) targets = {"all", "tutor_selftest", "testkit_selftest", "testkit_selftest.tsan"};
  for (const Kata* kata : katas) {
    targets.push_back(paths.target_prefix + "solution." + kata->id + ".both");
    targets.push_back(paths.target_prefix + "kata." + kata->id);
    targets.push_back(paths.target_prefix + "kata." + kata->id + ".first");
  }
  fmt::print("building {}\n", everything ? "everything" : "the kata(s)");
  std::fflush(stdout);
  const BuildResult build = build_targets(paths.build_dir, targets, /*keep_going=*/true);
  fmt::print("built in {:.0f} s{}; checking, side by side\n", build.seconds,
             build.ok ? "" : " (with errors: each part builds again what it needs, alone)");
  std::fflush(stdout);

  // Blocks: conventions, each kata, demos, framework; all run side by side.
  const std::size_t extra = everything ? 3 : 0;
  OrderedReport report(katas.size() + extra);
  std::vector<double> kata_cost(katas.size());
  parallel_for(katas.size() + extra, katas.size() + extra, [&](std::size_t i) {
    if (everything && i == 0) return report.finish(0, check_repository(manifest, paths));
    const std::size_t k = i - (everything ? 1 : 0);
    if (k < katas.size()) {
      // After a clean build a kata is graded as built; after a failed one (a starter may be
      // wrong) grading builds it again alone, which names its first error.
      Block block = check_kata(*katas[k], paths, options, build.ok);
      kata_cost[k] = block.cost;
      return report.finish(i, std::move(block));
    }
    if (k == katas.size()) return report.finish(i, check_demos(manifest, paths));
    report.finish(i, check_framework(paths));
  });
  // A failed build that no part failed for (the katas report their own errors): say what it was.
  const bool unexplained = !build.ok && report.failed() == 0;
  if (unexplained) fmt::print("\nthe build had errors outside the katas:\n{}\n", build.first_error);
  const int failed = report.failed() + (unexplained ? 1 : 0);

  // The budget (CONTRIBUTING.md, "Budget and flakes"): a kata's check may cost at most
  // kBudgetSeconds of test-process time, so that forty katas fit in about ten minutes.
  std::vector<std::size_t> order(katas.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return kata_cost[a] > kata_cost[b]; });
  std::string costliest;
  for (std::size_t i = 0; i < order.size() && i < 5; ++i) {
    const double cost = kata_cost[order[i]];
    costliest += fmt::format("{}{} {:.0f} s{}", i == 0 ? "" : ", ", katas[order[i]]->id, cost,
                             cost > kBudgetSeconds ? " (over budget)" : "");
  }
  fmt::print(
      "\nmake check took {:.0f} s (build {:.0f} s). Costliest katas (seconds of test processes; "
      "budget {:.0f} s each): {}\n",
      seconds_since(started), build.seconds, kBudgetSeconds, costliest);
  fmt::print("{}\n", closing_line(report.passed(), failed));
  return failed == 0 ? 0 : 1;
}

int run_stress(const Manifest& manifest, const Paths& paths, const StressOptions& options) {
  const auto started = Clock::now();
  std::vector<const Kata*> katas;
  for (const auto& kata : manifest.katas) katas.push_back(&kata);
  if (!options.katas.empty()) katas = select_katas(manifest, options.katas);
  std::vector<std::string> goals;
  for (const Kata* kata : katas)
    goals.push_back(paths.target_prefix + "solution." + kata->id + ".both");
  fmt::print("building the solutions of {} kata(s)\n", katas.size());
  std::fflush(stdout);
  BuildResult build = build_targets(paths.build_dir, goals, /*keep_going=*/true);
  if (!build.ok) {
    fmt::print("the build failed:\n{}\n{}\n", build.first_error, closing_line(0, 1));
    return 1;
  }
  fmt::print("{} shuffled runs of each solution's tests{}, side by side\n", options.repeat,
             " (and as many under ThreadSanitizer for race katas)");
  OrderedReport report(katas.size());
  parallel_for(katas.size(), katas.size(), [&](std::size_t i) {
    const Kata& kata = *katas[i];
    Block block;
    const auto kata_started = Clock::now();
    std::string error;
    const int tests = static_cast<int>(
        list_tests(paths.binary(target_name(paths, Variant::Solution, kata)), &error).size());
    for (bool tsan : {false, true}) {
      if (tsan && !kata.tsan) continue;
      const auto binary = paths.binary(target_name(paths, Variant::Solution, kata, tsan));
      const auto runs = shuffled_runs(binary, kata, tests, options.repeat, tsan, paths);
      for (const auto& r : runs)
        block.item(r.result.status == Status::Pass,
                   fmt::format("{}{} seed {}", kata.id, tsan ? " TSan" : "", r.seed),
                   failed_runs({r}, binary));
    }
    // One summary line per kata instead of a hundred: keep failures, fold the passes.
    Block folded;
    int ok = 0;
    for (auto& [passed, text] : block.items) {
      if (passed)
        ++ok;
      else
        folded.items.emplace_back(false, text);
    }
    folded.items.insert(folded.items.begin(),
                        {ok == static_cast<int>(block.items.size()),
                         fmt::format("{}: {} of {} runs passed ({:.1f} s)", kata.id, ok,
                                     block.items.size(), seconds_since(kata_started))});
    // Every run counts in the closing line; the summary line stands for the passed ones.
    folded.silent_passes = ok > 0 && ok == static_cast<int>(block.items.size()) ? ok - 1 : ok;
    report.finish(i, std::move(folded));
  });
  fmt::print("\nmake stress took {:.0f} s\n", seconds_since(started));
  fmt::print("{}\n", closing_line(report.passed(), report.failed()));
  return report.failed() == 0 ? 0 : 1;
}

}  // namespace tutor
