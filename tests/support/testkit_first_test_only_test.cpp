// testkit/first_test_only.hpp: first_test_only_sample.cpp, compiled with it, is a program that
// has the file's first test and nothing else (that its other bodies are never compiled, the
// sample's static_assert proves by building at all).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

// What `command` writes to stdout, and its exit status.
struct Ran {
  std::string output;
  int status = -1;
};

Ran run(const std::string& command) {
  Ran ran;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return ran;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe.get()) != nullptr) ran.output += buffer;
  ran.status = pclose(pipe.release());
  return ran;
}

TEST(FirstTestOnly, TheProgramListsTheFilesFirstTestAndNoOther) {
  const Ran listed = run(TESTKIT_FIRST_TEST_ONLY_SAMPLE " --gtest_list_tests 2>&1");
  ASSERT_EQ(listed.status, 0) << listed.output;
  EXPECT_NE(listed.output.find("Sample.\n  FirstRunsAndSeesItsFixture\n"), std::string::npos)
      << listed.output;
  EXPECT_EQ(listed.output.find("SecondIsNeverCompiled"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("Plain."), std::string::npos)
      << "a TEST (not TEST_F) after the first is left out too:\n"
      << listed.output;
}

TEST(FirstTestOnly, TheFirstTestRunsWithItsFixture) {
  const Ran ran = run(TESTKIT_FIRST_TEST_ONLY_SAMPLE " 2>&1");
  EXPECT_EQ(ran.status, 0) << ran.output;
  EXPECT_NE(ran.output.find("1 test from 1 test suite ran"), std::string::npos) << ran.output;
}

}  // namespace
