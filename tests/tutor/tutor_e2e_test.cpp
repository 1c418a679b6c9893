// The tutor tested end to end: every subcommand run as a process against the fixture course in
// tests/tutor/course/ (kata 01a fails one of two tests on its starter, 01b hangs), with its
// output and exit code checked, and results.json / junit.xml compared with golden files in
// tests/tutor/golden/ (durations and the date blanked out).
//
// To refresh the golden files after a deliberate change of the report formats:
//   TUTOR_UPDATE_GOLDEN=1 build/bin/tutor_selftest --gtest_filter='EndToEnd.*Golden*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kSource = TUTOR_SOURCE_DIR;
const fs::path kCourse = kSource / "tests/tutor/course";
const fs::path kGolden = kSource / "tests/tutor/golden";

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh state folder per test: results, junit, hints and backups land there.
class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = fs::temp_directory_path() /
             ("tutor-e2e-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state_);
    fs::create_directories(state_);
  }
  void TearDown() override { fs::remove_all(state_); }

  tutor::RunResult tutor(std::vector<std::string> args, const fs::path& course = kCourse) {
    tutor::RunRequest request;
    request.argv = {(fs::path(TUTOR_BUILD_DIR) / "bin/tutor").string(),
                    "--course",
                    course.string(),
                    "--target-prefix",
                    "course.",
                    "--state-dir",
                    state_.string()};
    request.argv.insert(request.argv.end(), args.begin(), args.end());
    request.timeout = 120s;
    request.extra_env["NO_COLOR"] = "1";
    return tutor::run_command(request);
  }

  fs::path state_;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Durations and the date change from run to run; everything else must not.
std::string without_times(std::string text) {
  text = std::regex_replace(text, std::regex(R"("generated": "[^"]*")"), R"("generated": "-")");
  text = std::regex_replace(text, std::regex(R"("duration": [0-9.e-]+)"), R"("duration": 0)");
  text = std::regex_replace(text, std::regex(R"(time="[0-9.]+")"), R"(time="0")");
  return text;
}

void expect_golden(const std::string& actual, const std::string& golden_name) {
  const fs::path golden = kGolden / golden_name;
  if (std::getenv("TUTOR_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden) << actual;
    return;
  }
  EXPECT_EQ(actual, read(golden)) << "the report differs from " << golden
                                  << "; if the change is deliberate, refresh the golden files "
                                     "(see the top of tutor_e2e_test.cpp)";
}

TEST_F(EndToEnd, ListShowsEveryKataNotGradedYet) {
  auto r = tutor({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "01a  not graded")) << r.output;
  EXPECT_TRUE(has(r.output, "01b  not graded")) << r.output;
  EXPECT_TRUE(has(r.output, "0 of 2 katas pass")) << r.output;
}

TEST_F(EndToEnd, GradeOneKataShowsEachVerdictAndTheHeadline) {
  auto r = tutor({"grade", "--kata", "01a"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "PASS    Add.AddsPositiveNumbers")) << r.output;
  EXPECT_TRUE(has(r.output, "FAIL    Add.AddsNegativeNumbers: -2 + 3 should be 1")) << r.output;
  EXPECT_TRUE(has(r.output, "What tells most (FAIL)")) << r.output;
  EXPECT_TRUE(r.output.ends_with("1 passed, 1 failed\nStuck? make hint KATA=01a\n")) << r.output;
  EXPECT_TRUE(has(tutor({"list"}).output, "01a  FAIL")) << "grading should be remembered";
}

TEST_F(EndToEnd, GradeOneTestOnly) {
  auto r = tutor({"grade", "--kata", "01a", "--test", "AddsPositiveNumbers"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.ends_with("1 passed, 0 failed\n")) << r.output;
  // One passing test of a failing kata is not the kata's grade: no row with full points, and
  // neither `list` nor the reports take it as one.
  EXPECT_TRUE(has(r.output, "this is not kata 01a's grade")) << r.output;
  EXPECT_FALSE(has(r.output, "points:")) << r.output;
  EXPECT_FALSE(has(tutor({"list"}).output, "01a  PASS")) << "one test's run was remembered";
  EXPECT_FALSE(std::filesystem::exists(state_ / "results.json")) << "one test's run was reported";
  auto unknown = tutor({"grade", "--kata", "01a", "--test", "NoSuchTest"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_TRUE(has(unknown.output, "has no test named 'NoSuchTest'")) << unknown.output;
}

TEST_F(EndToEnd, GradeEverythingMatchesTheGoldenReports) {
  auto r = tutor({"grade"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(has(r.output, "01b   TIMEOUT")) << r.output;
  EXPECT_TRUE(r.output.ends_with("1 passed, 2 failed\n")) << r.output;
  expect_golden(without_times(read(state_ / "results.json")), "grade_all_results.json");
  expect_golden(without_times(read(state_ / "junit.xml")), "grade_all_junit.xml");
}

TEST_F(EndToEnd, HintsComeOneMoreEachTime) {
  auto first = tutor({"hint", "01a"});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(has(first.output, "Hint 1 of 2")) << first.output;
  EXPECT_FALSE(has(first.output, "Hint 2 of 2")) << first.output;
  auto second = tutor({"hint", "01a"});
  EXPECT_TRUE(has(second.output, "Hint 2 of 2")) << second.output;
  EXPECT_TRUE(has(second.output, "That was the last hint")) << second.output;
}

TEST_F(EndToEnd, ACorruptStateFileIsStartedAfresh) {
  std::ofstream(state_ / "tutor-state.json") << "{ this is not json";
  auto r = tutor({"hint", "01a"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "Hint 1 of 2")) << r.output;
}

TEST_F(EndToEnd, BadInputGetsOneLineAndExitCode2) {
  auto no_kata = tutor({"hint"});
  EXPECT_EQ(no_kata.exit_code, 2) << no_kata.output;
  EXPECT_EQ(no_kata.output, "tutor: `make hint` needs a kata. Say which one: make hint KATA=01a\n");
  auto unknown = tutor({"grade", "--kata", "zz"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_TRUE(has(unknown.output, "tutor: there is no kata 'zz'. Katas: 01a 01b"))
      << unknown.output;
  auto no_manifest = tutor({"list"}, kCourse / "lessons");
  EXPECT_EQ(no_manifest.exit_code, 2) << no_manifest.output;
  EXPECT_TRUE(has(no_manifest.output, "curriculum.json")) << no_manifest.output;
}

TEST_F(EndToEnd, SolutionIsHiddenUntilThePassOrForce) {
  auto refused = tutor({"solution", "01a"});
  EXPECT_EQ(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(has(refused.output, "does not pass yet")) << refused.output;
  EXPECT_FALSE(has(refused.output, "return a + b;")) << refused.output;
  auto forced = tutor({"solution", "01a", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(has(forced.output, "return a + b;")) << forced.output;
}

TEST_F(EndToEnd, StartNamesTheFirstKataThatFails) {
  auto r = tutor({"start"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "No kata passes yet")) << r.output;
  EXPECT_TRUE(has(r.output, "Kata 01a · Add two numbers")) << r.output;
  EXPECT_TRUE(has(r.output, "Edit   katas/01a-add/add.hpp")) << r.output;
  EXPECT_TRUE(has(r.output, "-2 + 3 should be 1")) << r.output;
}

TEST_F(EndToEnd, CheckProvesTheSolutionPassesAndTheStarterFails) {
  auto r = tutor({"check", "--kata", "01a"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "starter of 01a compiles and fails 1 of 2 tests")) << r.output;
  EXPECT_TRUE(has(r.output, " passed, 0 failed\n")) << r.output;
}

TEST_F(EndToEnd, StressNamesTheRunsItMade) {
  auto r = tutor({"stress", "--kata", "01a", "--repeat", "5"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "01a: 5 of 5 runs passed")) << r.output;
  EXPECT_TRUE(r.output.ends_with("5 passed, 0 failed\n")) << r.output;
}

TEST_F(EndToEnd, ResetRestoresTheStarterAndKeepsABackup) {
  // A copy of the course in a git repository of its own: reset checks the starter out of git.
  const fs::path copy = state_ / "course";
  fs::copy(kCourse, copy, fs::copy_options::recursive);
  const std::string git = "cd '" + copy.string() +
                          "' && git init -q && git add -A && git -c user.name=t -c "
                          "user.email=t@t commit -qm fixture";
  ASSERT_EQ(std::system(git.c_str()), 0) << "could not make a git repository for the test";
  const fs::path kata_file = copy / "katas/01a-add/add.hpp";
  const std::string starter = read(kata_file);
  std::ofstream(kata_file) << "// my attempt\n";
  auto r = tutor({"reset", "01a"}, copy);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read(kata_file), starter) << "reset should bring back the starter";
  bool backed_up = false;
  for (const auto& entry : fs::recursive_directory_iterator(state_ / "backups"))
    backed_up = backed_up ||
                (entry.path().filename() == "add.hpp" && read(entry.path()) == "// my attempt\n");
  EXPECT_TRUE(backed_up) << "the learner's version should be in the backups folder";
}

}  // namespace
