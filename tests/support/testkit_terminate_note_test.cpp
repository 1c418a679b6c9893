// Tests of testkit/terminate_note.hpp: the note is printed before the usual end, only when it
// has something to say, and std::terminate is what it was once the note is gone.
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include "testkit/terminate_note.hpp"

namespace {

std::string explain_runtime_errors(std::exception_ptr escaped) {
  if (testkit::holds<std::runtime_error>(escaped)) return "a runtime_error escaped a thread";
  return "";
}

TEST(TerminateNoteDeathTest, IsPrintedWhenAnExceptionEscapesAThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        testkit::TerminateNote note(explain_runtime_errors);
        std::thread([] { throw std::runtime_error("boom"); }).join();
      },
      "a runtime_error escaped a thread\n(.|\n)*terminate called after throwing");
}

TEST(TerminateNoteDeathTest, SaysNothingWhenItHasNothingToSay) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        testkit::TerminateNote note(explain_runtime_errors);
        std::thread([] { throw 42; }).join();
      },
      "^terminate called after throwing an instance of 'int'");
}

TEST(TerminateNote, RestoresTheHandlerItReplaced) {
  const std::terminate_handler before = std::get_terminate();
  { testkit::TerminateNote note(explain_runtime_errors); }
  EXPECT_EQ(std::get_terminate(), before);
}

TEST(TerminateNote, HoldsTellsExceptionTypesApart) {
  EXPECT_TRUE(testkit::holds<std::runtime_error>(std::make_exception_ptr(std::runtime_error("x"))));
  EXPECT_TRUE(testkit::holds<std::exception>(std::make_exception_ptr(std::runtime_error("x"))));
  EXPECT_FALSE(testkit::holds<std::logic_error>(std::make_exception_ptr(std::runtime_error("x"))));
  EXPECT_FALSE(testkit::holds<int>(nullptr));
}

}  // namespace
