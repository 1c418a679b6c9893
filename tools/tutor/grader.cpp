#include "grader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
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
// binary is still compiling.
class KataBuild {
 public:
  KataBuild(const Paths& paths, const std::string& plain, bool tsan, bool prebuilt)
      : stamp_(paths.binary(plain)) {
    stamp_ += ".ready";
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
    // The plain binary first, alone: compiled side by side with its TSan twin it took ~4 s to
    // appear instead of ~2.5 s (2 cores). The TSan twin follows while the plain tests run.
    build_ = std::async(std::launch::async, [dir = paths.build_dir, plain, tsan] {
      BuildResult first = build_targets(dir, {plain}, /*keep_going=*/false, {}, kKataBuildLimit);
      if (!first.ok || !tsan) return first;
      BuildResult second =
          build_targets(dir, {plain + ".tsan"}, /*keep_going=*/false, {}, kKataBuildLimit);
      second.seconds += first.seconds;
      return second;
    });
  }

  // True once the plain binary is ready; false if the build ended without making it.
  bool wait_for_plain() {
    for (;;) {
      if (fs::exists(stamp_)) return true;
      if (build_.wait_for(std::chrono::milliseconds(5)) == std::future_status::ready) {
        finished_ = build_.get();
        // Up to date already (nothing relinked, no stamp): the build's result decides.
        return fs::exists(stamp_) || finished_.ok;
      }
    }
  }

  // The whole build's result (waits for the TSan binary too).
  const BuildResult& result() {
    std::call_once(collected_, [&] {
      if (build_.valid()) finished_ = build_.get();
    });
    return finished_;
  }

 private:
  fs::path stamp_;
  std::future<BuildResult> build_;
  BuildResult finished_;
  std::once_flag collected_;
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
  const bool tsan = (options.with_tsan && kata.tsan) || options.force_tsan;
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
  KataBuild build(paths, plain_target, tsan, options.prebuilt);
  // Whether bubblewrap works is found out once, by starting a sandbox (~0.05 s): here, while the
  // compiler runs, rather than before the first test, where the learner would wait for it.
  (void)sandbox_support();
  if (!build.wait_for_plain()) {
    const BuildResult& failed = build.result();
    result.seconds = failed.seconds;
    return build_error(result, kata, paths, failed.first_error);
  }
  note(fmt::format(
      "built in {:.1f} s",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));

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
  std::mutex report_mutex;
  std::vector<TestResult> plain(names.size()), under_tsan(names.size());
  std::vector<bool> ran_tsan(names.size(), false);
  parallel_for(names.size(), names.size(), [&](std::size_t i) {
    TestRun run;
    run.binary = binary;
    run.test = names[i];
    run.timeout = std::chrono::seconds(kata.timeout_seconds);
    run.limits = kata.limits;
    run.source_dir = paths.source_dir;
    {
      JobSlots::Held slot(JobSlots::shared());
      plain[i] = run_test(run);
    }
    {
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
