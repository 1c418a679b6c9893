// Tests of testkit/next_definition.hpp: without an interceptor it finds the C library's
// definition; with one, it returns the interceptor.
#include <gtest/gtest.h>
#include <unistd.h>

#include "testkit/next_definition.hpp"

namespace {

pid_t fake_getpid() { return -7; }

TEST(NextDefinition, FindsTheCLibrarysDefinitionWithoutAnInterceptor) {
  using Fn = pid_t (*)();
  const Fn next = testkit::next_definition<Fn>(nullptr, "getpid");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next(), getpid());
}

TEST(NextDefinition, PrefersTheInterceptorWhenThereIsOne) {
  const auto next = testkit::next_definition(&fake_getpid, "getpid");
  EXPECT_EQ(next(), -7);
}

}  // namespace
