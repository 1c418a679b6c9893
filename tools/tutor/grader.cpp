#include "grader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "builder.hpp"
#include "gtest_runner.hpp"
#include "integrity.hpp"
#include "jobs.hpp"
#include "sandbox.hpp"

namespace tutor {

namespace fs = std::filesystem;

std::string target_name(const Paths& paths, Variant variant, const Kata& kata, bool tsan) {
  return fmt::format("{}{}.{}{}", paths.target_prefix,
                     variant == Variant::Kata ? "kata" : "solution", kata.id, tsan ? ".tsan" : "");
}

void prebuild(Variant variant, const std::vector<const Kata*>& katas, const Paths& paths,
              std::size_t katas_in_manifest) {
  if (katas.size() <= 1) return;  // grade_kata builds a single kata itself
  const std::string side = variant == Variant::Kata ? "kata" : "solution";
  std::vector<std::string> goals;
  if (katas.size() == katas_in_manifest) {
    goals.push_back(paths.target_prefix + side + "s.all");
  } else {
    for (const Kata* kata : katas)
      goals.push_back(paths.target_prefix + side + "." + kata->id + ".both");
  }
  build_targets(paths.build_dir, goals, /*keep_going=*/true);
}

namespace {

// A kata that did not build: every test it names is NOT RUN.
KataResult build_error(KataResult result, const Kata& kata, const Paths& paths,
                       const std::string& first_error) {
  result.status = Status::BuildError;
  result.message = first_error;
  result.summary = one_line(first_error.substr(0, first_error.find('\n')), 100);
  for (const auto& name : tests_named_in_source(paths.source_dir / kata.test_file())) {
    TestResult t;
    t.name = name;
    t.status = Status::NotRun;
    t.message = t.summary = "not run: the kata did not compile";
    result.tests.push_back(t);
  }
  finish_kata(result, kata.headline_first);
  return result;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool test_selected(const std::string& name, const std::string& only) {
  if (only.empty() || name == only) return true;
  const auto dot = name.find('.');
  return dot != std::string::npos && name.substr(dot + 1) == only;
}

// The build of one kata: the plain binary, then (for flagged katas) its ThreadSanitizer twin.
// The plain binary's link touches a stamp file, so its tests can start while the slower TSan
// binary is still compiling. For the learner's code, a program with only the test file's first
// test in it (<binary>.first, testkit/first_test_only.hpp) compiles beside the plain binary, in
// about half its time: that test runs as soon as it links.
class KataBuild {
 public:
  enum class Ready { First, Plain, Failed };

  KataBuild(const Paths& paths, const std::string& plain, bool tsan, bool prebuilt, bool early)
      : stamp_(paths.binary(plain)), first_stamp_(paths.binary(plain + ".first")) {
    stamp_ += ".ready";
    first_stamp_ += ".ready";
    if (prebuilt) {  // built and up to date: nothing to wait for
      std::promise<BuildResult> done;
      BuildResult ok;
      ok.ok = true;
      done.set_value(ok);
      build_ = done.get_future();
      return;
    }
    std::error_code ignored;
    fs::remove(stamp_, ignored);
    fs::remove(first_stamp_, ignored);
    // Without an early program: the plain binary first, alone (compiled side by side with its
    // TSan twin it took ~4 s to appear instead of ~2.5 s on 2 cores), then the TSan twin while
    // the plain tests run. With one: all three in one run of Ninja, which starts the early
    // program's compile beside the plain one (cmake/Kata.cmake defines it first) and the TSan
    // twin's on the core the early program leaves (04a: TSan binary at 5.2 s instead of ~6.5).
    std::vector<std::string> goals = {plain};
    if (early) {
      goals.insert(goals.begin(), plain + ".first");
      if (tsan) goals.push_back(plain + ".tsan");
    }
    build_ =
        std::async(std::launch::async, [dir = paths.build_dir, goals, plain, tsan, stamp = stamp_] {
          const bool together = goals.size() > 1;
          // Past errors when together: the early program only saves time, and the plain binary's
          // own build decides. (A learner's compile error stops all of them, side by side.)
          BuildResult first =
              build_targets(dir, goals, /*keep_going=*/together, {}, kKataBuildLimit);
          if (together && !first.ok && fs::exists(stamp)) {
            if (!tsan)
              first.ok = true;  // only the early program failed
            else {  // the early program or the TSan twin failed: the twin's own build says which
              BuildResult twin =
                  build_targets(dir, {plain + ".tsan"}, /*keep_going=*/false, {}, kKataBuildLimit);
              twin.seconds += first.seconds;
              return twin;
            }
          }
          if (!first.ok || !tsan || together) return first;
          BuildResult second =
              build_targets(dir, {plain + ".tsan"}, /*keep_going=*/false, {}, kKataBuildLimit);
          second.seconds += first.seconds;
          return second;
        });
  }

  // Waits until the plain binary is ready (Plain), or else its first-test binary (First), or
  // the build has ended without making the plain binary (Failed).
  Ready wait_for_first_or_plain() { return wait(true); }
  Ready wait_for_plain() { return wait(false); }

  // The whole build's result (waits for the TSan binary too).
  const BuildResult& result() {
    std::call_once(collected_, [&] {
      if (build_.valid()) finished_ = build_.get();
    });
    return finished_;
  }

 private:
  Ready wait(bool first_will_do) {
    for (;;) {
      if (fs::exists(stamp_)) return Ready::Plain;
      if (first_will_do && fs::exists(first_stamp_)) return Ready::First;
      // (Not valid: its result was collected already.)
      if (!build_.valid() ||
          build_.wait_for(std::chrono::milliseconds(5)) == std::future_status::ready) {
        // Up to date already (nothing relinked, no stamp): the build's result decides.
        return fs::exists(stamp_) || result().ok ? Ready::Plain : Ready::Failed;
      }
    }
  }

  fs::path stamp_, first_stamp_;
  std::future<BuildResult> build_;
  BuildResult finished_;
  std::once_flag collected_;
};

// One plain run of one test, as grading starts it.
TestRun plain_run(const fs::path& binary, const std::string& test, const Kata& kata,
                  const Paths& paths) {
  TestRun run;
  run.binary = binary;
  run.test = test;
  run.timeout = std::chrono::seconds(kata.timeout_seconds);
  run.limits = kata.limits;
  run.source_dir = paths.source_dir;
  run.mpi_ranks = kata.mpi_ranks;
  return run;
}

// The tests of a kata's first-test binary (<binary>.first), started as soon as it links: each
// runs in its own process and is reported at once; grading takes their results instead of
// running them again from the whole binary.
class EarlyTests {
 public:
  void start(const fs::path& binary, const Kata& kata, const Paths& paths,
             const std::string& only_test, const GradeEvents& events, std::mutex& report_mutex) {
    std::string error;
    for (const auto& name : list_tests(binary, &error, kata.limits)) {
      if (!test_selected(name, only_test)) continue;
      runs_.emplace(name, std::async(std::launch::async,
                                     [binary, name, &kata, &paths, &events, &report_mutex] {
                                       TestResult t;
                                       {
                                         JobSlots::Held slot(JobSlots::shared());
                                         t = run_test(plain_run(binary, name, kata, paths));
                                       }
                                       std::lock_guard lock(report_mutex);
                                       if (events.on_test) events.on_test(t, false);
                                       return t;
                                     }));
    }
  }

  // The result of `test` if it was started here (waits for it to end); else nothing.
  std::optional<TestResult> result_of(const std::string& test) {
    const auto it = runs_.find(test);
    if (it == runs_.end()) return std::nullopt;
    return it->second.get();
  }

  void wait() {
    for (auto& [name, run] : runs_) run.wait();
  }

 private:
  std::map<std::string, std::shared_future<TestResult>> runs_;
};

}  // namespace

KataResult grade_kata(const Kata& kata, const Paths& paths, const GradeOptions& options,
                      const GradeEvents& events) {
  KataResult result;
  result.id = kata.id;
  result.title = kata.title;
  result.lesson = kata.lesson;
  result.points_possible = kata.points;
  result.file = fmt::format("{}/{}/{}", options.variant == Variant::Kata ? "katas" : "solutions",
                            kata.dir, kata.files.front());
  // Not a kata on oneTBB, OpenMP or MPI, even when asked: Debian builds none of them for
  // ThreadSanitizer, which would report races in correct code (Kata::tsan_blind_spot).
  const bool tsan =
      ((options.with_tsan && kata.tsan) || options.force_tsan) && kata.tsan_blind_spot().empty();
  const auto started = std::chrono::steady_clock::now();
  const std::string side = options.variant == Variant::Kata ? "katas" : "solutions";
  std::string voided;  // why no test can be trusted, if so
  for (const auto& finding : inspect_kata_files(kata, paths.source_dir / side / kata.dir,
                                                fmt::format("{}/{}", side, kata.dir))) {
    result.flags.push_back(finding.text);
    if (finding.voids_tests && voided.empty()) voided = finding.text;
  }
  auto note = [&](const std::string& text) {
    if (events.on_note) events.on_note(text);
  };

  if (!fs::exists(paths.source_dir / kata.test_file())) {
    result.status = Status::BuildError;
    result.message = result.summary = kata.test_file() + " is missing";
    finish_kata(result, kata.headline_first);
    return result;
  }

  // The authoritative build of this kata alone: its exit status decides BUILD ERROR, whatever
  // an earlier keep-going build left behind.
  const std::string plain_target = target_name(paths, options.variant, kata);
  // The learner's first test early, unless only another test was asked for.
  const std::vector<std::string> in_source =
      tests_named_in_source(paths.source_dir / kata.test_file());
  const bool first_early = options.variant == Variant::Kata && !in_source.empty() &&
                           test_selected(in_source.front(), options.only_test);
  KataBuild build(paths, plain_target, tsan, options.prebuilt, first_early);
  // Whether bubblewrap works is found out once, by starting a sandbox (~0.05 s): here, while the
  // compiler runs, rather than before the first test, where the learner would wait for it.
  (void)sandbox_support();
  auto seconds_so_far = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  std::mutex report_mutex;
  // The test file's first test, run from its own binary while the rest still compiles.
  EarlyTests early;
  if (build.wait_for_first_or_plain() == KataBuild::Ready::First && voided.empty()) {
    note(fmt::format("first test built in {:.1f} s; the others are still compiling",
                     seconds_so_far()));
    early.start(paths.binary(plain_target + ".first"), kata, paths, options.only_test, events,
                report_mutex);
  }
  if (build.wait_for_plain() == KataBuild::Ready::Failed) {
    early.wait();
    const BuildResult& failed = build.result();
    result.seconds = failed.seconds;
    return build_error(result, kata, paths, failed.first_error);
  }
  note(fmt::format("built in {:.1f} s", seconds_so_far()));

  // The tests to grade come from the test source; the binary's own listing (kata code runs
  // in it) only shows which of them it really has.
  const auto binary = paths.binary(plain_target);
  std::string error;
  std::vector<std::string> names;
  for (const auto& name : tests_named_in_source(paths.source_dir / kata.test_file()))
    if (test_selected(name, options.only_test)) names.push_back(name);
  const std::vector<std::string> listed = list_tests(binary, &error, kata.limits);
  const std::set<std::string> in_binary(listed.begin(), listed.end());
  for (const auto& name : listed)
    if (!contains(tests_named_in_source(paths.source_dir / kata.test_file()), name))
      result.flags.push_back(fmt::format(
          "the test program lists a test the test source does not have: {} (not graded)", name));
  std::vector<std::string> missing;
  if (error.empty())
    std::erase_if(names, [&](const std::string& name) {
      if (in_binary.count(name)) return false;
      missing.push_back(name);
      return true;
    });
  if (names.empty() && missing.empty()) {
    TestResult t;
    t.name = kata.id + ".list";
    t.status = options.only_test.empty() || !error.empty() ? Status::Crash : Status::NotRun;
    t.message = !error.empty() ? error
                : options.only_test.empty()
                    ? "the test source names no tests"
                    : "kata " + kata.id + " has no test named '" + options.only_test + "'";
    t.summary = one_line(t.message);
    result.tests.push_back(t);
  } else if (!error.empty()) {
    for (const auto& name : names) {
      TestResult t;
      t.name = name;
      t.status = Status::Crash;
      t.message = error;
      t.summary = one_line(error);
      result.tests.push_back(t);
    }
    names.clear();
  }
  for (const auto& name : missing) {
    TestResult t;
    t.name = name;
    t.status = Status::Fail;
    t.message =
        "the test program does not have this test, though its source does: was it renamed or "
        "hidden by the kata's code (a #define of TEST or TEST_F)?";
    t.summary = "missing from the test program (renamed or hidden?)";
    result.tests.push_back(t);
    if (events.on_test) events.on_test(t, false);
  }

  if (!voided.empty()) {  // nothing the tests would say could be believed: none runs
    for (const auto& name : names) {
      TestResult t;
      t.name = name;
      t.status = Status::Fail;
      t.message = t.summary = voided;
      result.tests.push_back(t);
      if (events.on_test) events.on_test(t, false);
    }
    names.clear();
  }

  // Every test in its own process, several at once; the TSan run of a test follows its plain
  // run as soon as both the plain verdict (PASS) and the TSan binary are there.
  std::vector<TestResult> plain(names.size()), under_tsan(names.size());
  std::vector<bool> ran_tsan(names.size(), false);
  parallel_for(names.size(), names.size(), [&](std::size_t i) {
    TestRun run = plain_run(binary, names[i], kata, paths);
    if (std::optional<TestResult> ran = early.result_of(names[i])) {
      plain[i] = *ran;  // already reported
    } else {
      {
        JobSlots::Held slot(JobSlots::shared());
        plain[i] = run_test(run);
      }
      std::lock_guard lock(report_mutex);
      if (events.on_test) events.on_test(plain[i], false);
    }
    if (!tsan || plain[i].status != Status::Pass) return;
    const BuildResult& whole = build.result();
    TestResult t;
    if (!whole.ok) {
      t.name = names[i];
      t.status = Status::Fail;
      t.message = "the ThreadSanitizer build failed: " + whole.first_error;
      t.summary = one_line(t.message);
    } else {
      // The same test again, watched by ThreadSanitizer: a race fails it even when the
      // numbers happened to come out right this time.
      run.binary = paths.binary(target_name(paths, options.variant, kata, true));
      run.tsan = true;
      run.timeout = std::chrono::seconds(kata.timeout_seconds * 3);  // TSan runs slower
      JobSlots::Held slot(JobSlots::shared());
      t = run_test(run);
    }
    std::lock_guard lock(report_mutex);
    under_tsan[i] = t;
    ran_tsan[i] = true;
    if (events.on_test) events.on_test(t, true);
  });

  for (std::size_t i = 0; i < names.size(); ++i) {
    TestResult t = plain[i];
    if (ran_tsan[i]) {
      const TestResult& u = under_tsan[i];
      if (u.status != Status::Pass) {
        t = u;
        if (t.message.rfind("ThreadSanitizer", 0) != 0) {
          t.message = "under ThreadSanitizer: " + t.message;
          t.summary = "under TSan: " + t.summary;
        }
      }
      t.seconds = plain[i].seconds + u.seconds;
    }
    result.tests.push_back(t);
  }
  // In the order of the test file, whatever became of each test.
  const auto source_order = tests_named_in_source(paths.source_dir / kata.test_file());
  auto index_of = [&](const TestResult& t) {
    return std::find(source_order.begin(), source_order.end(), t.name) - source_order.begin();
  };
  std::stable_sort(result.tests.begin(), result.tests.end(),
                   [&](const auto& a, const auto& b) { return index_of(a) < index_of(b); });
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  finish_kata(result, kata.headline_first);
  return result;
}

std::vector<KataResult> grade_katas(const std::vector<const Kata*>& katas,
                                    std::size_t katas_in_manifest, const Paths& paths,
                                    const GradeOptions& options,
                                    const std::function<void(const KataResult&)>& on_result) {
  // A kata that fails to build is built again, alone, by grade_kata: that gives its own error.
  prebuild(options.variant, katas, paths, katas_in_manifest);
  std::vector<KataResult> results(katas.size());
  std::vector<bool> done(katas.size(), false);
  std::size_t reported = 0;
  std::mutex mutex;
  // Several katas at once (their tests share the job slots); reported in manifest order.
  parallel_for(katas.size(), 4, [&](std::size_t i) {
    KataResult r = grade_kata(*katas[i], paths, options);
    std::lock_guard lock(mutex);
    results[i] = std::move(r);
    done[i] = true;
    while (reported < katas.size() && done[reported]) {
      if (on_result) on_result(results[reported]);
      ++reported;
    }
  });
  return results;
}

}  // namespace tutor
