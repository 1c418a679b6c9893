// The conventions `make check` enforces (conventions.hpp), each broken on purpose in a copy of
// the fixture course: every rule must notice, and say where.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "conventions.hpp"
#include "manifest.hpp"

namespace {

namespace fs = std::filesystem;

class Conventions : public ::testing::Test {
 protected:
  void SetUp() override {
    course_ = fs::temp_directory_path() /
              ("tutor-conventions-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(course_);
    fs::copy(fs::path(TUTOR_SOURCE_DIR) / "tests/tutor/course", course_,
             fs::copy_options::recursive);
    fs::copy_file(fs::path(TUTOR_SOURCE_DIR) / ".clang-format", course_ / ".clang-format");
  }
  void TearDown() override { fs::remove_all(course_); }

  // The problems of the rule whose description starts with `rule`.
  std::vector<std::string> problems(const std::string& rule) {
    const tutor::Manifest manifest = tutor::load_manifest(course_ / "curriculum.json");
    for (const auto& c : tutor::check_conventions(manifest, course_))
      if (c.rule.rfind(rule, 0) == 0) return c.problems;
    ADD_FAILURE() << "no rule starts with \"" << rule << "\"";
    return {};
  }

  void write(const fs::path& file, const std::string& text) {
    std::ofstream(course_ / file) << text;
  }
  std::string read(const fs::path& file) {
    std::ifstream in(course_ / file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  fs::path course_;
};

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

TEST_F(Conventions, TheFixtureCourseKeepsThemAll) {
  const tutor::Manifest manifest = tutor::load_manifest(course_ / "curriculum.json");
  for (const auto& c : tutor::check_conventions(manifest, course_))
    EXPECT_TRUE(c.problems.empty()) << c.rule << ":\n" << joined(c.problems);
}

TEST_F(Conventions, AnUnformattedFileIsNamedWithItsLine) {
  write("solutions/01a-add/add.hpp", read("solutions/01a-add/add.hpp") + "int   badly ;\n");
  const auto found = problems("every C++ file is clang-format clean");
  ASSERT_EQ(found.size(), 1u) << joined(found);
  EXPECT_EQ(found[0].rfind("solutions/01a-add/add.hpp:10:", 0), 0u) << found[0];
}

TEST_F(Conventions, AStarterWithoutTodoIsNamed) {
  std::string text = read("katas/01a-add/add.hpp");
  text.replace(text.find("// TODO"), 7, "// later");
  write("katas/01a-add/add.hpp", text);
  const auto found = problems("every starter marks");
  ASSERT_EQ(found.size(), 1u) << joined(found);
  EXPECT_EQ(found[0].rfind("katas/01a-add/add.hpp:", 0), 0u) << found[0];
}

TEST_F(Conventions, ATitleThatDiffersFromTheManifestIsNamed) {
  std::string text = read("solutions/01b-wait/wait.hpp");
  text.replace(0, text.find('\n'), "// Kata 01b · Wait less");
  write("solutions/01b-wait/wait.hpp", text);
  const auto found = problems("each kata file opens with");
  ASSERT_EQ(found.size(), 1u) << joined(found);
  EXPECT_EQ(found[0].rfind("solutions/01b-wait/wait.hpp:1:", 0), 0u) << found[0];
}

TEST_F(Conventions, StrayFilesAndBrokenMirrorsAreNamed) {
  write("tests/old_test.cpp", "// left over\n");
  write("katas/01a-add/extra.hpp", "// only in katas/\n");
  fs::create_directories(course_ / "solutions/09z-nothing");
  const auto found = problems("every file under katas/");
  const std::string all = joined(found);
  EXPECT_EQ(found.size(), 3u) << all;
  EXPECT_NE(all.find("tests/old_test.cpp: belongs to no kata"), std::string::npos) << all;
  EXPECT_NE(all.find("katas/01a-add/extra.hpp: has no twin"), std::string::npos) << all;
  EXPECT_NE(all.find("solutions/09z-nothing: no kata"), std::string::npos) << all;
}

TEST_F(Conventions, AHintThatIsTheWholeSolutionIsNamed) {
  std::string manifest = read("curriculum.json");
  manifest.replace(manifest.find("Second hint: return a + b."), 26, std::string(450, 'x'));
  write("curriculum.json", manifest);
  const auto found = problems("every kata has 2 or 3 hints");
  ASSERT_EQ(found.size(), 1u) << joined(found);
  EXPECT_EQ(found[0], "curriculum.json: hint 2 of kata 01a is 450 characters");
}

}  // namespace
