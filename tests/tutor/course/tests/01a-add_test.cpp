// Tests of the tutor's fixture kata 01a: one passes on the starter, one fails.
#include <gtest/gtest.h>

#include "add.hpp"

namespace {

TEST(Add, AddsPositiveNumbers) { EXPECT_EQ(kata::add(2, 3), 5) << "2 + 3 should be 5"; }

TEST(Add, AddsNegativeNumbers) { EXPECT_EQ(kata::add(-2, 3), 1) << "-2 + 3 should be 1"; }

}  // namespace
