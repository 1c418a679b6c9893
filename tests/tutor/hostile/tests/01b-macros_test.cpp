// The hostile course: the kata's header redefines GoogleTest's assertion so this cannot fail.
#include <gtest/gtest.h>

#include "answer.hpp"

namespace {

TEST(Macros, AnswerIs42) { EXPECT_EQ(hostile::answer(), 42); }

}  // namespace
