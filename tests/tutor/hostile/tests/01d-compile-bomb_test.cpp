// The hostile course: a kata that must end as a BUILD ERROR, within the build's limits.
#include <gtest/gtest.h>

#include "bomb.hpp"

namespace {

TEST(Build, Compiles) { EXPECT_EQ(hostile::answer(), 42); }

}  // namespace
