// The tutor's own tests: manifest parsing, how each outcome of a test process is graded,
// build errors, and the report formats. Fixtures live in tests/tutor/fixtures/.
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "builder.hpp"
#include "grader.hpp"
#include "gtest_runner.hpp"
#include "manifest.hpp"
#include "report.hpp"
#include "subprocess.hpp"

using namespace tutor;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kBin = std::filesystem::path(TUTOR_BUILD_DIR) / "bin";

std::string manifest_with(const std::string& kata_fields) {
  return R"({"lessons": [{"id": "01", "dir": "01-threads", "title": "Threads"}],
             "katas": [{"id": "01a", "dir": "01a-spawn", "lesson": "01", "title": "Spawn",
                        "files": ["spawn.hpp"], "hints": ["idea", "more"])" +
         kata_fields + "}]}";
}

TestResult outcome(const std::string& test, std::chrono::milliseconds timeout = 3000ms,
                   Limits limits = {}) {
  TestRun run;
  run.binary = kBin / "tutor_fixture";
  run.test = "Outcomes." + test;
  run.timeout = timeout;
  run.limits = limits;
  run.source_dir = TUTOR_SOURCE_DIR;
  return run_test(run);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// ---- manifest ------------------------------------------------------------------------------

TEST(Manifest, ReadsAKataWithDefaults) {
  Manifest m = parse_manifest(manifest_with(""));
  ASSERT_EQ(m.katas.size(), 1u);
  EXPECT_EQ(m.katas[0].id, "01a");
  EXPECT_EQ(m.katas[0].timeout_seconds, 10);
  EXPECT_FALSE(m.katas[0].tsan);
  EXPECT_EQ(m.katas[0].test_file(), "tests/01a-spawn_test.cpp");
}

TEST(Manifest, ReadsLimitsAndFlags) {
  Manifest m = parse_manifest(manifest_with(
      R"(, "timeout": 4, "tsan": true, "points": 7, "limits": {"processes": 32, "cpu_seconds": 5})"));
  EXPECT_EQ(m.katas[0].timeout_seconds, 4);
  EXPECT_TRUE(m.katas[0].tsan);
  EXPECT_EQ(m.katas[0].points, 7);
  EXPECT_EQ(m.katas[0].limits.processes, 32);
  EXPECT_EQ(m.katas[0].limits.cpu_seconds, 5);
}

TEST(Manifest, ErrorsNameTheKataAndTheField) {
  try {
    parse_manifest(manifest_with(R"(, "timeout": "ten")"));
    FAIL() << "a wrong type must be rejected";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(contains(e.what(), "timeout")) << e.what();
    EXPECT_TRUE(contains(e.what(), "01a")) << e.what();
  }
  EXPECT_THROW(parse_manifest("{ not json"), std::runtime_error);
  EXPECT_THROW(parse_manifest(R"({"lessons": [], "katas": [{"id": "01a"}]})"), std::runtime_error);
}

TEST(Manifest, RejectsDuplicateIdsUnknownLessonsAndTooFewHints) {
  std::string twice = manifest_with("");
  twice.insert(twice.rfind(']'), R"(, {"id": "01a", "dir": "01a-x", "lesson": "01", "title": "X",
      "files": ["x.hpp"], "hints": ["a", "b"]})");
  EXPECT_THROW(parse_manifest(twice), std::runtime_error);
  std::string orphan = manifest_with("");
  orphan.replace(orphan.find(R"("lesson": "01")"), 14, R"("lesson": "99")");
  EXPECT_THROW(parse_manifest(orphan), std::runtime_error);
  std::string one_hint = manifest_with("");
  one_hint.replace(one_hint.find(R"(["idea", "more"])"), 16, R"(["idea"])");
  EXPECT_THROW(parse_manifest(one_hint), std::runtime_error);
}

TEST(Manifest, ReadsMpiRanksAndRefusesThemUnderThreadSanitizer) {
  EXPECT_EQ(parse_manifest(manifest_with("")).katas[0].mpi_ranks, 0);
  EXPECT_EQ(parse_manifest(manifest_with(R"(, "mpi_ranks": 2)")).katas[0].mpi_ranks, 2);
  EXPECT_THROW(parse_manifest(manifest_with(R"(, "mpi_ranks": 2, "tsan": true)")),
               std::runtime_error);
  EXPECT_THROW(parse_manifest(manifest_with(R"(, "mpi_ranks": 99)")), std::runtime_error);
}

TEST(Manifest, KnowsWhichRuntimesThreadSanitizerCannotSeeInto) {
  EXPECT_EQ(parse_manifest(manifest_with("")).katas[0].tsan_blind_spot(), "");
  EXPECT_EQ(parse_manifest(manifest_with(R"(, "link": ["fmt::fmt"])")).katas[0].tsan_blind_spot(),
            "");
  EXPECT_EQ(parse_manifest(manifest_with(R"(, "link": ["TBB::tbb"])")).katas[0].tsan_blind_spot(),
            "oneTBB");
  EXPECT_EQ(parse_manifest(manifest_with(R"(, "link": ["OpenMP::OpenMP_CXX"])"))
                .katas[0]
                .tsan_blind_spot(),
            "OpenMP");
  EXPECT_EQ(parse_manifest(manifest_with(R"(, "mpi_ranks": 2)")).katas[0].tsan_blind_spot(), "MPI");
  try {
    parse_manifest(manifest_with(R"(, "link": ["TBB::tbb"], "tsan": true)"));
    ADD_FAILURE() << "a kata on oneTBB flagged for ThreadSanitizer was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("oneTBB"), std::string::npos) << e.what();
  }
}

TEST(Manifest, TheRealCurriculumLoads) {
  Manifest m = load_manifest(std::filesystem::path(TUTOR_SOURCE_DIR) / "curriculum.json");
  EXPECT_FALSE(m.katas.empty());
  EXPECT_NE(m.find_kata("01a"), nullptr);
}

// ---- how test outcomes are graded ----------------------------------------------------------

TEST(Grading, APassingTestIsPass) { EXPECT_EQ(outcome("Passes").status, Status::Pass); }

TEST(Grading, AFailedAssertionIsFailWithTheAuthorsMessage) {
  TestResult r = outcome("FailsWithAMessage");
  EXPECT_EQ(r.status, Status::Fail);
  EXPECT_EQ(r.summary, "only 1 of 4 calls were running at the same time");
  EXPECT_TRUE(contains(r.message, "tests/tutor/fixtures/outcomes_test.cpp")) << r.message;
}

TEST(Grading, AHangIsTimeoutAndIsStoppedAtTheLimit) {
  auto started = std::chrono::steady_clock::now();
  TestResult r = outcome("Hangs", 1000ms);
  EXPECT_EQ(r.status, Status::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s) << "the limit did not stop the test";
}

TEST(Grading, ASegfaultIsCrashNamingTheSignal) {
  TestResult r = outcome("Segfaults");
  EXPECT_EQ(r.status, Status::Crash);
  EXPECT_TRUE(contains(r.message, "SIGSEGV")) << r.message;
}

TEST(Grading, AJoinableThreadDestroyedIsExplained) {
  TestResult r = outcome("DestroysAJoinableThread");
  EXPECT_EQ(r.status, Status::Crash);
  EXPECT_TRUE(contains(r.message, "SIGABRT")) << r.message;
  EXPECT_TRUE(contains(r.message, "joinable")) << r.message;
}

TEST(Grading, ATestkitDeadlineIsTimeoutWithItsMessage) {
  TestResult r = outcome("MissesATestkitDeadline");
  EXPECT_EQ(r.status, Status::Timeout);
  EXPECT_TRUE(contains(r.summary, "join_all(4 items) did not finish")) << r.summary;
}

TEST(Grading, AnEarlyExitIsCrash) {
  TestResult r = outcome("ExitsEarly");
  EXPECT_EQ(r.status, Status::Crash);
  EXPECT_TRUE(contains(r.message, "exited with code 3")) << r.message;
}

TEST(Grading, KillOfEveryProcessIsRefusedAndExplained) {
  TestResult r = outcome("KillsEveryProcess");
  EXPECT_EQ(r.status, Status::Fail);
  EXPECT_TRUE(contains(r.message, "refused kill(-1, 15)")) << r.message;
}

TEST(Grading, AProcessLimitStopsAForkLoop) {
  Limits limits;
  limits.processes = 32;
  TestResult r = outcome("ForkLoopIsStoppedByTheLimit", 10000ms, limits);
  EXPECT_EQ(r.status, Status::Pass) << r.message;
}

TEST(Grading, ARaceIsFailUnderThreadSanitizer) {
  TestRun run;
  run.binary = kBin / "tutor_fixture_race";
  run.test = "Race.PlainIntCounter";
  run.timeout = 30s;
  run.tsan = true;
  run.source_dir = TUTOR_SOURCE_DIR;
  TestResult r = run_test(run);
  EXPECT_EQ(r.status, Status::Fail);
  EXPECT_TRUE(contains(r.message, "data race")) << r.message;
  EXPECT_EQ(r.message.find("ThreadSanitizer"), r.message.rfind("ThreadSanitizer"))
      << "say it once: " << r.message;
  EXPECT_TRUE(contains(r.message, "tests/tutor/fixtures/race_test.cpp")) << r.message;
}

TEST(Grading, TestsAreListedFromTheBinaryAndFromTheSource) {
  std::string error;
  auto listed = list_tests(kBin / "tutor_fixture", &error);
  auto named = tests_named_in_source(std::filesystem::path(TUTOR_SOURCE_DIR) /
                                     "tests/tutor/fixtures/outcomes_test.cpp");
  EXPECT_EQ(listed, named) << error;
  EXPECT_EQ(listed.front(), "Outcomes.Passes");
}

TEST(Subprocess, LeftoverProcessesAreKilledWhenTheTestEnds) {
  RunRequest request;
  request.argv = {"/bin/sh", "-c", "sleep 300 & echo $!"};
  request.timeout = 10s;
  RunResult r = run_command(request);
  ASSERT_TRUE(r.ok()) << r.output;
  pid_t sleeper = std::stoi(r.output);
  EXPECT_GE(r.leftovers_killed, 1);
  // The sleeper is gone: no such process, or a zombie waiting for init to reap it.
  auto dead = [&] {
    std::ifstream stat("/proc/" + std::to_string(sleeper) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
  };
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = dead();
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "a background child outlived its test";
}

// ---- MPI katas: one report per rank (classify_ranks) ---------------------------------------

namespace {

// A GoogleTest JSON report with one test, S.T, that ran: passed, or failed with `failure`.
std::string rank_report(const std::string& failure = "") {
  nlohmann::json test = {{"name", "T"}, {"status", "RUN"}, {"result", "COMPLETED"}};
  if (!failure.empty()) test["failures"] = {{{"failure", failure}}};
  return nlohmann::json{{"testsuites", {{{"name", "S"}, {"testsuite", {test}}}}}}.dump();
}

TestRun two_ranks() {
  TestRun run;
  run.test = "S.T";
  run.mpi_ranks = 2;
  return run;
}

RunResult mpirun_ended(int exit_code, int ok_lines) {
  RunResult process;
  process.exit_code = exit_code;
  for (int i = 0; i < ok_lines; ++i) process.output += "[       OK ] S.T (1 ms)\n";
  return process;
}

}  // namespace

TEST(MpiGrading, PassesOnlyIfEveryRankPassed) {
  EXPECT_EQ(
      classify_ranks("S.T", mpirun_ended(0, 2), {rank_report(), rank_report()}, two_ranks()).status,
      Status::Pass);
  const TestResult one_failed = classify_ranks(
      "S.T", mpirun_ended(1, 1), {rank_report(), rank_report("x.cpp:3\nwrong sum")}, two_ranks());
  EXPECT_EQ(one_failed.status, Status::Fail);
  EXPECT_TRUE(contains(one_failed.message, "rank 1 of 2: x.cpp:3")) << one_failed.message;
}

TEST(MpiGrading, AFailedMpiCallIsNamedNotMistakenForAForkedChild) {
  RunResult process = mpirun_ended(13, 0);
  process.output =
      "[testkit] MPI error: rank 1: an MPI call failed with \"MPI_ERR_BUFFER: invalid "
      "buffer pointer\", and MPI ends the whole job on an error.\n";
  const TestResult t = classify_ranks("S.T", process, {"", ""}, two_ranks());
  EXPECT_EQ(t.status, Status::Crash);
  EXPECT_TRUE(contains(t.summary, "rank 1: an MPI call failed")) << t.summary;
  EXPECT_TRUE(contains(t.message, "MPI_ERR_BUFFER")) << t.message;
  EXPECT_FALSE(contains(t.message, "_exit in the child")) << t.message;
  // Without testkit's line (a rank called exit()), the job's end is still put in MPI's terms.
  const TestResult bare = classify_ranks("S.T", mpirun_ended(1, 0), {"", ""}, two_ranks());
  EXPECT_TRUE(contains(bare.message, "the MPI job ended with code 1")) << bare.message;
}

TEST(MpiGrading, AFailedRankComesBeforeTheTimeoutOfTheRankThatWaitedForIt) {
  RunResult process = mpirun_ended(-1, 0);
  process.timed_out = true;
  const TestResult t =
      classify_ranks("S.T", process, {"", rank_report("x.cpp:9\nskipped a Bcast")}, two_ranks());
  EXPECT_EQ(t.status, Status::Fail);
  EXPECT_TRUE(contains(t.message, "rank 1 of 2: x.cpp:9")) << t.message;
  EXPECT_TRUE(contains(t.message, "rank 0 never finished the test and was stopped")) << t.message;
}

TEST(MpiGrading, ARankWithoutAResultIsNamed) {
  RunResult process = mpirun_ended(-1, 1);
  process.timed_out = true;
  const TestResult hung = classify_ranks("S.T", process, {rank_report(), ""}, two_ranks());
  EXPECT_EQ(hung.status, Status::Timeout);
  EXPECT_TRUE(contains(hung.message, "rank 1 of 2 gave no result")) << hung.message;
  EXPECT_TRUE(contains(hung.message, "eager limit")) << hung.message;
  const TestResult crashed =
      classify_ranks("S.T", mpirun_ended(134, 1), {rank_report(), ""}, two_ranks());
  EXPECT_EQ(crashed.status, Status::Crash);
}

TEST(MpiGrading, ReportsWithoutGoogleTestsLinesOnEveryRankAreForged) {
  const TestResult t =
      classify_ranks("S.T", mpirun_ended(0, 1), {rank_report(), rank_report()}, two_ranks());
  EXPECT_EQ(t.status, Status::Fail);
  EXPECT_TRUE(contains(t.message, "something other than GoogleTest")) << t.message;
}

TEST(MpiGrading, MpirunStartsTheRanksWithTheSharedMemoryTransports) {
  const auto line = mpirun_command({"/bin/prog", "--gtest_filter=S.T"}, 2, false);
  const std::string joined = fmt::format("{}", fmt::join(line, " "));
  EXPECT_TRUE(contains(joined, "-np 2 --oversubscribe")) << joined;
  EXPECT_TRUE(contains(joined, "--mca btl self,vader")) << joined;
  EXPECT_FALSE(contains(joined, "--allow-run-as-root")) << joined;
  EXPECT_TRUE(joined.ends_with("/bin/prog --gtest_filter=S.T")) << joined;
  const auto as_root = mpirun_command({"/bin/prog"}, 2, true);
  EXPECT_NE(std::find(as_root.begin(), as_root.end(), "--allow-run-as-root"), as_root.end());
}

// ---- build errors --------------------------------------------------------------------------

TEST(Build, ACompileErrorIsReportedWithItsFirstErrorLine) {
  BuildResult b = build_targets(TUTOR_BUILD_DIR, {"tutor_fixture_broken"});
  EXPECT_FALSE(b.ok);
  EXPECT_TRUE(contains(b.first_error, "tests/tutor/fixtures/broken.cpp:5")) << b.first_error;
  EXPECT_TRUE(contains(b.first_error, "this_name_does_not_exist")) << b.first_error;
  EXPECT_FALSE(contains(b.first_error, TUTOR_SOURCE_DIR)) << "paths should be relative";
}

TEST(Build, FirstCompilerErrorPicksTheFirstOfMany) {
  std::string output =
      "[ 50%] Building CXX object x.o\n"
      "/src/katas/a.hpp:3:1: error: first problem\n"
      "    3 | int x = ;\n"
      "      |         ^\n"
      "/src/katas/a.hpp:9:1: error: second problem\n";
  EXPECT_EQ(first_compiler_error(output, "/src"),
            "katas/a.hpp:3:1: error: first problem\n    3 | int x = ;\n      |         ^");
}

// ---- reports -------------------------------------------------------------------------------

namespace {
std::vector<KataResult> sample_results() {
  KataResult a;
  a.id = "01a";
  a.title = "Spawn & join";
  a.points_possible = 10;
  a.tests = {{"S.One", Status::Pass, "", "", 0.1},
             {"S.Two", Status::Timeout, "hung <here>", "hung", 3.0}};
  finish_kata(a);
  KataResult b;
  b.id = "01b";
  b.title = "Results";
  b.points_possible = 10;
  b.status = Status::BuildError;
  b.message = b.summary = "katas/x.hpp:1: error: nope";
  b.tests = {{"R.One", Status::NotRun, "not run", "not run", 0}};
  finish_kata(b);
  return {a, b};
}
}  // namespace

TEST(Report, KataStatusAndPointsFollowItsTests) {
  auto results = sample_results();
  EXPECT_EQ(results[0].status, Status::Timeout);
  EXPECT_DOUBLE_EQ(results[0].points, 5.0);
  EXPECT_EQ(results[1].status, Status::BuildError);
  Totals t = totals_of(results);
  EXPECT_EQ(t.tests_passed, 1);
  EXPECT_EQ(t.tests_failed, 2);
  EXPECT_EQ(closing_line(t.tests_passed, t.tests_failed), "1 passed, 2 failed");
}

TEST(Report, ResultsJsonFollowsTheDocumentedSchema) {
  auto j = nlohmann::json::parse(results_json(sample_results(), "katas"));
  EXPECT_EQ(j["schema"], "concurrency-katas/results/1");
  EXPECT_EQ(j["summary"]["tests_failed"], 2);
  ASSERT_EQ(j["katas"].size(), 2u);
  for (const char* key : {"id", "title", "lesson", "file", "status", "message", "duration",
                          "points", "points_possible", "tests"})
    EXPECT_TRUE(j["katas"][0].contains(key)) << "kata entry lacks " << key;
  for (const char* key : {"name", "status", "message", "duration", "points"})
    EXPECT_TRUE(j["katas"][0]["tests"][0].contains(key)) << "test entry lacks " << key;
  EXPECT_EQ(j["katas"][1]["status"], "BUILD ERROR");
  EXPECT_EQ(j["katas"][0]["tests"][1]["status"], "TIMEOUT");
  EXPECT_DOUBLE_EQ(j["katas"][0]["tests"][0]["points"].get<double>(), 5.0);
}

TEST(Report, JUnitEscapesTextAndCountsFailures) {
  std::string xml = junit_xml(sample_results());
  EXPECT_TRUE(contains(xml, "tests=\"3\" failures=\"2\"")) << xml;
  EXPECT_TRUE(contains(xml, "hung &lt;here&gt;")) << xml;
  EXPECT_TRUE(contains(xml, "Spawn &amp; join")) << xml;
  EXPECT_FALSE(contains(xml, "<here>"));
}

TEST(Report, OneLineTakesTheAuthorsLastLine) {
  EXPECT_EQ(one_line("file.cpp:3\nValue of: x\n  Actual: false\nExpected: true\nthe message\n"),
            "the message");
  EXPECT_EQ(one_line(std::string(200, 'x'), 10), "xxxxxxx...");
}

TEST(Report, OneLineTakesAnAssertionResultsOwnWords) {
  // EXPECT_TRUE(covers(...)) with a ::testing::AssertionResult and no message after it: the
  // author's words are inside GoogleTest's "Actual: false (...)", not the last line.
  EXPECT_EQ(one_line("t.cpp:9\nValue of: covers(p)\n  Actual: false (a piece (of 12) is too "
                     "big:\nsplit it)\nExpected: true\n"),
            "a piece (of 12) is too big: split it");
  EXPECT_EQ(one_line("t.cpp:9\nValue of: empty(p)\n  Actual: true (3 left)\nExpected: false\n"),
            "3 left");
  // Without words of the author's, GoogleTest's last line is all there is.
  EXPECT_EQ(one_line("t.cpp:9\nValue of: ok\n  Actual: false\nExpected: true\n"), "Expected: true");
}
