// The grader against hostile code: the katas of tests/tutor/hostile/ attack it (a fork bomb,
// a setsid() escapee, memory without end, a spin, a deadlock, output without end, a 1 GiB
// report, a segfault, exit(0) in a test, signals to the grader, a forged report, redefined
// assertions, a silenced ThreadSanitizer, a compile that never ends, an include of the
// solution). Graded once, through the tutor as a learner runs it; the test checks each attack's
// verdict and limit in turn, and that the grader survived with its report intact. Grading takes
// a while (the compile bomb runs into its memory limit), which is why it happens once.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cgroup.hpp"
#include "sandbox.hpp"
#include "subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

const fs::path kHostile = fs::path(TUTOR_SOURCE_DIR) / "tests/tutor/hostile";

struct Graded {
  tutor::RunResult process;
  json results;          // results.json
  std::string victim;    // the file results.json was a symbolic link to, after grading
  bool results_is_link;  // results.json is still that link
};

// Grades the whole hostile course once (the tests below share the outcome). The state folder
// starts with results.json as a symbolic link to a file the grader must not write.
const Graded& graded() {
  static const Graded once = [] {
    Graded g;
    const fs::path state =
        fs::temp_directory_path() / ("tutor-hostile-" + std::to_string(getpid()));
    fs::remove_all(state);
    fs::create_directories(state);
    { std::ofstream(state / "victim.txt") << "untouched"; }
    fs::create_symlink(state / "victim.txt", state / "results.json");
    tutor::RunRequest request;
    request.argv = {(fs::path(TUTOR_BUILD_DIR) / "bin/tutor").string(),
                    "--course",
                    kHostile.string(),
                    "--target-prefix",
                    "hostile.",
                    "--state-dir",
                    state.string(),
                    "grade"};
    request.timeout = 600s;  // a failure bound: the compile bomb stops at its limit long before
    request.extra_env["NO_COLOR"] = "1";
    g.process = tutor::run_command(request);
    std::ifstream victim(state / "victim.txt");
    std::getline(victim, g.victim);
    g.results_is_link = fs::is_symlink(state / "results.json");
    std::ifstream in(state / "results.json");
    if (in) g.results = json::parse(in, nullptr, false);
    fs::remove_all(state);
    return g;
  }();
  return once;
}

const json& kata(const std::string& id) {
  static const json none = json::object();
  const json& results = graded().results;
  if (!results.is_object() || !results.contains("katas")) return none;
  for (const auto& k : results.at("katas"))
    if (k.value("id", "") == id) return k;
  return none;
}

std::map<std::string, json> tests_of(const std::string& id) {
  std::map<std::string, json> by_name;
  for (const auto& t : kata(id).value("tests", json::array())) by_name[t.value("name", "")] = t;
  return by_name;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string flags_of(const std::string& id) {
  std::string all;
  for (const auto& f : kata(id).value("flags", json::array())) all += f.get<std::string>() + "\n";
  return all;
}

bool process_named(const std::string& name) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream comm(entry.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) return true;
  }
  return false;
}

void TheGraderSurvivesAndWritesItsReportSafely() {
  const Graded& g = graded();
  EXPECT_FALSE(g.process.timed_out) << g.process.output;
  EXPECT_EQ(g.process.signal, 0) << "the grader was killed:\n" << g.process.output;
  EXPECT_EQ(g.process.exit_code, 1) << g.process.output;  // graded, and nothing passes
  EXPECT_TRUE(has(g.process.output, " passed, ")) << g.process.output;
  ASSERT_TRUE(g.results.is_object()) << "no readable results.json:\n" << g.process.output;
  EXPECT_EQ(g.victim, "untouched") << "the grader wrote through a symbolic link";
  EXPECT_FALSE(g.results_is_link);
}

void RunTimeAttacksGetTheVerdictTheyDeserve() {
  auto t = tests_of("01a");
  ASSERT_EQ(t.size(), 14u) << graded().process.output;
  const std::map<std::string, std::string> expected = {
      {"Runtime.Honest", "PASS"},          {"Runtime.ForkBomb", "FAIL"},
      {"Runtime.SetsidEscapee", "FAIL"},   {"Runtime.MemoryHog", "CRASH"},
      {"Runtime.Spin", "TIMEOUT"},         {"Runtime.Deadlock", "TIMEOUT"},
      {"Runtime.WaitForever", "TIMEOUT"},  {"Runtime.Flood", "TIMEOUT"},
      {"Runtime.HugeReport", "CRASH"},     {"Runtime.Segfault", "CRASH"},
      {"Runtime.Abort", "CRASH"},          {"Runtime.ExitZero", "CRASH"},
      {"Runtime.SignalTheGrader", "FAIL"}, {"Runtime.ForgeReport", "FAIL"}};
  for (const auto& [name, status] : expected) {
    if (name == "Runtime.MemoryHog" && !tutor::Cgroup(0, 1 << 30).caps_memory()) continue;
    EXPECT_EQ(t[name].value("status", ""), status) << name << ": " << t[name].dump(2);
  }
  EXPECT_NEAR(kata("01a").value("points", -1.0), 10.0 / 14, 0.001);  // 1 test of 14
  EXPECT_TRUE(has(t["Runtime.ExitZero"].value("message", ""), "exited with code 0"));
  EXPECT_TRUE(has(t["Runtime.Segfault"].value("message", ""), "SIGSEGV"));
  EXPECT_TRUE(has(t["Runtime.ForgeReport"].value("message", ""), "other than GoogleTest"));
  if (tutor::Cgroup(48, 0).caps_tasks())
    EXPECT_TRUE(has(t["Runtime.ForkBomb"].value("message", ""), "limit of 48 processes"));
  if (tutor::Cgroup(0, 1 << 30).caps_memory())
    EXPECT_TRUE(has(t["Runtime.MemoryHog"].value("message", ""), "64 MB of memory"));
}

void NothingOutlivesItsTest() {
  graded();
  // Only a PID namespace or a cgroup can reach a process that left the test's process group;
  // with neither (no bwrap, not root) the escapee outlives its test, as the README says.
  if (!tutor::sandbox_support().available && !tutor::Cgroup(16, 0).caps_tasks()) {
    std::printf("neither a sandbox nor a cgroup here: a setsid() escapee is not stopped\n");
    return;
  }
  EXPECT_FALSE(process_named("hostile-escape")) << "a setsid() escapee outlived its test";
}

void FlagsWhatGamesTheGrade() {
  const std::string flags = flags_of("01a");
  EXPECT_TRUE(has(flags, "fake_pass.cpp is not a file of this kata")) << flags;
  EXPECT_TRUE(has(flags, "/proc/self/cmdline")) << flags;
  EXPECT_TRUE(has(flags, "kill(getppid")) << flags;
  EXPECT_TRUE(has(flags_of("01c"), "__tsan_default_options")) << flags_of("01c");
  EXPECT_TRUE(has(flags_of("01f"), "solutions/01f-peek/answer.hpp")) << flags_of("01f");
}

void RedefinedAssertionsVoidEveryTest() {
  EXPECT_EQ(kata("01b").value("status", ""), "FAIL") << kata("01b").dump(2);
  EXPECT_TRUE(has(flags_of("01b"), "redefines GoogleTest's macro EXPECT_EQ")) << flags_of("01b");
}

void ASilencedThreadSanitizerStillReportsTheRace() {
  const auto t = tests_of("01c");
  ASSERT_EQ(t.count("TsanHook.CountsToTwoThousand"), 1u) << kata("01c").dump(2);
  const json& test = t.at("TsanHook.CountsToTwoThousand");
  EXPECT_EQ(test.value("status", ""), "FAIL") << test.dump(2);
  EXPECT_TRUE(has(test.value("message", ""), "data race")) << test.dump(2);
}

void CodeThatCannotCompileIsABuildErrorWithinItsLimits() {
  EXPECT_EQ(kata("01d").value("status", ""), "BUILD ERROR") << kata("01d").dump(2);
  EXPECT_LT(kata("01d").value("duration", 1e9), 150) << "the compile bomb outlived its limits";
  EXPECT_EQ(kata("01e").value("status", ""), "BUILD ERROR") << kata("01e").dump(2);
}

void TheLearnersCompileCannotSeeTheSolutions() {
  if (!tutor::sandbox_support().available) {
    std::printf("no sandbox here (%s): an include of solutions/ is only flagged\n",
                tutor::sandbox_support().missing.c_str());
    return;
  }
  EXPECT_EQ(kata("01f").value("status", ""), "BUILD ERROR") << kata("01f").dump(2);
}

TEST(HostileCode, EveryAttackGetsItsVerdictAndTheGraderSurvives) {
  {
    SCOPED_TRACE("TheGraderSurvivesAndWritesItsReportSafely");
    TheGraderSurvivesAndWritesItsReportSafely();
  }
  {
    SCOPED_TRACE("RunTimeAttacksGetTheVerdictTheyDeserve");
    RunTimeAttacksGetTheVerdictTheyDeserve();
  }
  {
    SCOPED_TRACE("NothingOutlivesItsTest");
    NothingOutlivesItsTest();
  }
  {
    SCOPED_TRACE("FlagsWhatGamesTheGrade");
    FlagsWhatGamesTheGrade();
  }
  {
    SCOPED_TRACE("RedefinedAssertionsVoidEveryTest");
    RedefinedAssertionsVoidEveryTest();
  }
  {
    SCOPED_TRACE("ASilencedThreadSanitizerStillReportsTheRace");
    ASilencedThreadSanitizerStillReportsTheRace();
  }
  {
    SCOPED_TRACE("CodeThatCannotCompileIsABuildErrorWithinItsLimits");
    CodeThatCannotCompileIsABuildErrorWithinItsLimits();
  }
  {
    SCOPED_TRACE("TheLearnersCompileCannotSeeTheSolutions");
    TheLearnersCompileCannotSeeTheSolutions();
  }
}

}  // namespace
