// Makes a kata test file compile into a program with only its first test in it: the tutor builds
// that program (kata.<id>.first) beside the whole one and runs the first test as soon as it
// links, so that a save gets its first verdict sooner (cmake/Kata.cmake, tools/tutor/grader.cpp).
//
// Why: every save recompiles the whole test file, since the learner's header is part of it, and
// most of that compile is the tests themselves: the templates they instantiate and their code.
// The first test alone compiles in about half the time or less (04b: 4.0 s -> 2.0 s on 2 cores),
// on the second core, while the first core compiles the whole file as before.
//
// How: CMake force-includes this header (-include) into that one compile. TEST_F and TEST then
// still define each test's class, but its body becomes a member template, which the compiler
// parses (a compile error still shows) but never instantiates unless the test is registered:
// only the file's first test is, found by __COUNTER__. Parameterized and typed tests are refused.
// The whole program, the solutions and the ThreadSanitizer twins never see this header.
#pragma once

#include <gtest/gtest.h>

namespace testkit::first_test_only {

inline constexpr int kCounterBefore = __COUNTER__;

// Registers Test with GoogleTest when it is the file's first (the first TEST_F to read
// __COUNTER__ after this header). Only then is its body instantiated (in Run::TestBody).
template <class Test, bool First>
bool add(const char* suite, const char* name, const char* file, int line) {
  if constexpr (First) {
    struct Run final : Test {
      void TestBody() override { this->template Body<0>(); }
    };
    // The factory returns the fixture type, as RegisterTest asks: it is the test suite's.
    ::testing::RegisterTest(suite, name, nullptr, nullptr, file, line,
                            []() -> typename Test::Fixture* { return new Run; });
  }
  return First;
}

}  // namespace testkit::first_test_only

#undef TEST_F
#undef TEST
#define TEST_F(fixture, name) TESTKIT_FIRST_TEST_ONLY_(fixture, name, fixture, __COUNTER__)
#define TEST(suite, name) TESTKIT_FIRST_TEST_ONLY_(suite, name, ::testing::Test, __COUNTER__)
#define TESTKIT_FIRST_TEST_ONLY_(suite, name, fixture, counter)                                \
  class suite##_##name##_Test : public fixture {                                               \
   public:                                                                                     \
    using Fixture = fixture;                                                                   \
    template <int>                                                                             \
    void Body();                                                                               \
  };                                                                                           \
  [[maybe_unused]] static const bool suite##_##name##_registered =                             \
      ::testkit::first_test_only::add<                                                         \
          suite##_##name##_Test, (counter) == ::testkit::first_test_only::kCounterBefore + 1>( \
          #suite, #name, __FILE__, __LINE__);                                                  \
  template <int>                                                                               \
  void suite##_##name##_Test::Body()

#undef TEST_P
#undef TYPED_TEST
#undef TYPED_TEST_P
#define TEST_P(suite, name) \
  static_assert(false, "kata tests use TEST_F (see tests/support/testkit/first_test_only.hpp)")
#define TYPED_TEST(suite, name) TEST_P(suite, name)
#define TYPED_TEST_P(suite, name) TEST_P(suite, name)

// A helper that only the other tests use is not needed here: no warning for that.
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunneeded-internal-declaration"
#endif
#pragma GCC diagnostic ignored "-Wunused-function"
