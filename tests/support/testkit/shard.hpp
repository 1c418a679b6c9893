// Compiles one kata test file as two objects side by side, so that a save gets its first verdict
// sooner: the learner's test program is built from shard 0 (the file's first test) and shard 1
// (every other test), and the tutor links shard 0 alone too, runs that test as soon as it links,
// and the others once the whole program is there (cmake/Kata.cmake, tools/tutor/grader.cpp).
//
// Why: a save recompiles the whole test file, since the learner's header is part of it, and on
// 2 cores the compiler used one of them. Most of a test file's compile is the tests themselves
// (the templates they instantiate and their code); split in two, the first test compiles in about
// half the time or less (04b: 4.0 s -> 2.0 s), and the rest beside it on the other core.
//
// How: CMake force-includes this header (-include) into each shard, with KATA_SHARD (0 or 1)
// defined. TEST_F and TEST then still define the test's class, but its body becomes a member
// template: in the other shard, the body is parsed (so a compile error shows in both) but never
// instantiated, and costs neither template instantiation nor code. A test belongs to the shard
// that registers it with GoogleTest; its index in the file comes from __COUNTER__.
//
// A test file compiled the usual way (solutions, ThreadSanitizer twins, the testkit's own tests)
// never sees this header. Parameterized and typed tests are refused: a sharded program would run
// them twice.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>

#ifndef KATA_SHARD
#error "testkit/shard.hpp is force-included by cmake/Kata.cmake with KATA_SHARD set; not by hand"
#endif

namespace testkit::shard {

inline constexpr int kCounterBefore = __COUNTER__;

// The shard of the test whose TEST_F read __COUNTER__ as `counter`: the file's first test is
// shard 0's alone (its early verdict), every other test is shard 1's.
constexpr int shard_of(int counter) { return counter - kCounterBefore == 1 ? 0 : 1; }

// What GoogleTest takes for the fixture class of the test suite `suite`: the same in both
// shards. GoogleTest checks that all tests of a suite share one fixture class, and a fixture
// declared in an anonymous namespace (as kata tests do) is a different class in each shard.
// (That check still runs where the file is compiled in one piece: solutions and TSan twins.)
inline ::testing::internal::TypeId suite_id(const char* suite) {
  static std::set<std::string> suites;  // filled while tests register, before main()
  return &*suites.insert(suite).first;
}

// Registers Test with GoogleTest when it is this shard's, as TEST_F would have (these are the
// calls its expansion makes). Only then is its body instantiated (Run::TestBody), so that only
// then does it cost compile time.
template <class Test, bool Mine>
bool add(const char* suite, const char* name, const char* file, int line) {
  if constexpr (Mine) {
    namespace gi = ::testing::internal;
    struct Run final : Test {
      void TestBody() override { this->template Body<0>(); }
    };
    using Fixture = typename Test::Fixture;
    gi::MakeAndRegisterTestInfo(suite, name, nullptr, nullptr, gi::CodeLocation(file, line),
                                suite_id(suite),
                                gi::SuiteApiResolver<Fixture>::GetSetUpCaseOrSuite(file, line),
                                gi::SuiteApiResolver<Fixture>::GetTearDownCaseOrSuite(file, line),
                                new gi::TestFactoryImpl<Run>);
  }
  return Mine;
}

}  // namespace testkit::shard

#undef TEST_F
#undef TEST
#define TEST_F(fixture, name) TESTKIT_SHARD_TEST_(fixture, name, fixture, __COUNTER__)
#define TEST(suite, name) TESTKIT_SHARD_TEST_(suite, name, ::testing::Test, __COUNTER__)
#define TESTKIT_SHARD_TEST_(suite, name, fixture, counter)                      \
  class suite##_##name##_Test : public fixture {                                \
   public:                                                                      \
    using Fixture = fixture;                                                    \
    template <int>                                                              \
    void Body();                                                                \
  };                                                                            \
  [[maybe_unused]] static const bool suite##_##name##_registered =              \
      ::testkit::shard::add<suite##_##name##_Test,                              \
                            ::testkit::shard::shard_of(counter) == KATA_SHARD>( \
          #suite, #name, __FILE__, __LINE__);                                   \
  template <int>                                                                \
  void suite##_##name##_Test::Body()

#undef TEST_P
#undef TYPED_TEST
#undef TYPED_TEST_P
#define TEST_P(suite, name) \
  static_assert(false, "kata tests are compiled in shards (testkit/shard.hpp): use TEST_F")
#define TYPED_TEST(suite, name) TEST_P(suite, name)
#define TYPED_TEST_P(suite, name) TEST_P(suite, name)

// A helper used only by the other shard's tests is not needed here: no warning for that.
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunneeded-internal-declaration"
#endif
#pragma GCC diagnostic ignored "-Wunused-function"
