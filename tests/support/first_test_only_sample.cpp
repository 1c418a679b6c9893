// The program that testkit_first_test_only_test.cpp looks at: this file compiled with
// testkit/first_test_only.hpp force-included (CMakeLists.txt), as a kata's <id>.first program is.
// If the second test's body were compiled, the static_assert below would stop the build.
#include <gtest/gtest.h>

namespace {

template <class T>
int instantiated_only_by_the_second_test() {
  static_assert(sizeof(T) == 0, "the second test's body was compiled");
  return 0;
}

class Sample : public ::testing::Test {
 protected:
  int answer_ = 42;
};

TEST_F(Sample, FirstRunsAndSeesItsFixture) { EXPECT_EQ(answer_, 42); }

TEST_F(Sample, SecondIsNeverCompiled) { EXPECT_EQ(instantiated_only_by_the_second_test<int>(), 0); }

TEST(Plain, ThirdIsNeither) { FAIL() << "not in the program"; }

}  // namespace
