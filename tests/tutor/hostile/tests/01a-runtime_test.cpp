// The hostile course's run-time attacks: each test runs one attack (katas/01a-runtime) and
// then fails. No test but Honest may pass, whatever the attack does to the grader or the report.
#include <gtest/gtest.h>

#include "attack.hpp"

namespace {

TEST(Runtime, Honest) { SUCCEED(); }
TEST(Runtime, ForkBomb) {
  hostile::fork_bomb();
  FAIL() << "every fork of the bomb succeeded";
}
TEST(Runtime, SetsidEscapee) { FAIL() << hostile::setsid_escapee(); }
TEST(Runtime, MemoryHog) { FAIL() << hostile::memory_hog(); }
TEST(Runtime, Spin) { hostile::spin(); }
TEST(Runtime, WaitForever) { hostile::wait_forever(); }
TEST(Runtime, Deadlock) { hostile::deadlock(); }
TEST(Runtime, Flood) { hostile::flood(); }
TEST(Runtime, HugeReport) { FAIL() << hostile::huge_report(); }
TEST(Runtime, Segfault) { FAIL() << hostile::segfault(); }
TEST(Runtime, Abort) { hostile::abort_now(); }
TEST(Runtime, ExitZero) { hostile::exit_zero(); }
TEST(Runtime, SignalTheGrader) { FAIL() << hostile::signal_the_grader(); }
TEST(Runtime, ForgeReport) { FAIL() << hostile::forge_report(); }

}  // namespace
