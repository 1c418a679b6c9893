// The hostile course: a data race whose kata asks ThreadSanitizer not to report it.
#include <gtest/gtest.h>

#include "race.hpp"

namespace {

TEST(TsanHook, CountsToTwoThousand) { EXPECT_EQ(hostile::racy_count(), 2000); }

}  // namespace
