// Class grading's reports and the integrity checks, as pure functions: the class table, CSV and
// JSON from learners' results, and what in a kata file is flagged (and what is not).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "class_grading.hpp"
#include "integrity.hpp"

namespace {

using namespace tutor;

KataResult kata_result(const std::string& id, double points, std::vector<std::string> flags = {}) {
  KataResult k;
  k.id = id;
  k.points = points;
  k.points_possible = 10;
  k.status = points == 10 ? Status::Pass : Status::Fail;
  k.flags = std::move(flags);
  return k;
}

struct Class {
  Kata a, b;
  std::vector<const Kata*> katas;
  std::vector<LearnerResult> learners;
  Class() {
    a.id = "01a";
    a.points = 10;
    b.id = "01b";
    b.points = 10;
    katas = {&a, &b};
    LearnerResult ann{"ann", {kata_result("01a", 10), kata_result("01b", 5)}, {}, "", {}, 0};
    LearnerResult ben{
        "ben, jr", {kata_result("01a", 0, {"katas/01a-x/x.hpp redefines"})}, {}, "", {}, 0};
    LearnerResult cid{"cid", {}, {}, "/c has no katas/ folder", {}, 0};
    learners = {ann, ben, cid};
  }
};

TEST(ClassReports, TheTableHasARowPerLearnerWithPointsFlagsAndErrors) {
  Class c;
  const std::string table = class_table(c.learners, c.katas);
  EXPECT_NE(table.find("ann"), std::string::npos) << table;
  EXPECT_NE(table.find("15/20"), std::string::npos) << table;
  EXPECT_NE(table.find("FLAGGED"), std::string::npos) << table;
  EXPECT_NE(table.find("NOT GRADED: /c has no katas/ folder"), std::string::npos) << table;
}

TEST(ClassReports, CsvQuotesWhatNeedsQuotingAndMarksMissingKatas) {
  Class c;
  const std::string csv = class_csv(c.learners, c.katas);
  EXPECT_NE(csv.find("learner,01a,01b,points,points_possible,flagged,error\n"), std::string::npos);
  EXPECT_NE(csv.find("ann,10,5,15.000,20,0,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"ben, jr\",0,-,0.000,20,1,\n"), std::string::npos) << csv;
}

TEST(ClassReports, JsonHoldsEachLearnersKatasAndFlags) {
  Class c;
  const auto root = nlohmann::json::parse(class_json(c.learners, c.katas));
  ASSERT_EQ(root["learners"].size(), 3u);
  EXPECT_EQ(root["learners"][0]["points"], 15.0);
  EXPECT_EQ(root["learners"][1]["flagged"], true);
  EXPECT_EQ(root["learners"][1]["katas"]["01a"]["flags"].size(), 1u);
  EXPECT_EQ(root["learners"][2]["error"], "/c has no katas/ folder");
}

TEST(Integrity, FlagsWhatGamesTheGradeEvenWhenHidden) {
  const auto found = [](const std::string& code) {
    std::string all;
    for (const auto& f : suspicious_constructs(code))
      all += f.text + (f.voids_tests ? "!\n" : "\n");
    return all;
  };
  EXPECT_NE(found("#/**/define EXPECT_EQ(a, b)").find("EXPECT_EQ: the tests no longer"),
            std::string::npos);
  EXPECT_NE(found("#  undef \\\nTEST_F").find("TEST_F"), std::string::npos);
  EXPECT_NE(found("#define EXPECT_TRUE(x)").find("!"), std::string::npos);  // voids the tests
  EXPECT_NE(found("f(\"/proc/self/cmdline\")").find("/proc/self/cmdline"), std::string::npos);
  EXPECT_NE(found("const char* __tsan_default_options()").find("__tsan_default_options"),
            std::string::npos);
  EXPECT_NE(found("#include \"../../solutions/01a/x.hpp\"").find("outside the kata"),
            std::string::npos);
  EXPECT_NE(found("syscall(SYS_kill, -1, 9);").find("raw system call"), std::string::npos);
}

TEST(Integrity, LeavesOrdinaryKataCodeAlone) {
  const std::string code = R"(
    // A comment may say testing::Test, #define EXPECT_EQ or /proc/self/cmdline.
    #include <sys/wait.h>
    #include "thread_pool.hpp"
    #define KATA_MAX_WORKERS 4
    inline void stop(pid_t child) { kill(child, SIGTERM); waitpid(child, nullptr, 0); }
    int mainly_idle = 0;
  )";
  for (const auto& f : suspicious_constructs(code)) ADD_FAILURE() << "flagged: " << f.text;
}

}  // namespace
