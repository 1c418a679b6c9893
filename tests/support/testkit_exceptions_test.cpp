// Tests of testkit/exceptions.hpp: an exception is named by the type that was thrown (also when
// it was caught as a base class), with its what(); two exceptions of different types or texts
// are never described alike.
#include <gtest/gtest.h>

#include <exception>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include "testkit/exceptions.hpp"

namespace {

// A test file's own exception type, as the kata tests declare them (anonymous namespace).
struct Rejected : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A type of a named namespace keeps its namespace, as kata::CancelledError does.
namespace library {
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace library

// C++ can throw a value of any type, not only a std::exception.
struct NotAStdException {
  int code = 0;
};

// The exception thrown by `fn`, as a std::exception_ptr, once caught as `Caught`.
template <typename Caught, typename Fn>
std::exception_ptr caught_as(Fn fn) {
  try {
    fn();
  } catch (const Caught&) {
    return std::current_exception();
  }
  return nullptr;
}

TEST(DescribeException, NamesAStdExceptionByItsTypeAndSaysWhatItSays) {
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(std::out_of_range("no key 3"))),
            "std::out_of_range(\"no key 3\")");
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(Rejected("input 3 rejected"))),
            "Rejected(\"input 3 rejected\")")
      << "a test file's own type is named without \"(anonymous namespace)::\"";
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(library::Failure("lost"))),
            "library::Failure(\"lost\")");
}

TEST(DescribeException, NamesTheTypeThatWasThrownNotTheOneItWasCaughtAs) {
  const std::exception_ptr error =
      caught_as<std::exception>([] { throw Rejected("input 3 rejected"); });
  EXPECT_EQ(testkit::describe_exception(error), "Rejected(\"input 3 rejected\")");
}

TEST(DescribeException, TellsAnExceptionFromACopySqueezedIntoItsBaseType) {
  // What a kata test relies on to say "the original did not arrive".
  const std::exception_ptr original = std::make_exception_ptr(Rejected("input 3"));
  const std::exception_ptr copy = std::make_exception_ptr(std::invalid_argument("input 3"));
  EXPECT_NE(testkit::describe_exception(original), testkit::describe_exception(copy));
  EXPECT_EQ(testkit::describe_exception(copy), "std::invalid_argument(\"input 3\")");
  EXPECT_NE(testkit::describe_exception(std::make_exception_ptr(Rejected("input 4"))),
            testkit::describe_exception(original))
      << "the same type with another text";
}

TEST(DescribeException, DescribesWhatAFutureThrows) {
  std::future<int> orphan;
  {
    std::promise<int> promise;
    orphan = promise.get_future();
  }
  const std::exception_ptr broken = caught_as<std::exception>([&] { orphan.get(); });
  EXPECT_EQ(testkit::describe_exception(broken),
            "std::future_error(\"" +
                std::string(std::future_error(std::future_errc::broken_promise).what()) + "\")");
}

TEST(DescribeException, DescribesValuesThatAreNoStdException) {
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(7)), "int(7)");
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(-1L)), "long(-1)");
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(3u)), "unsigned(3)");
  EXPECT_EQ(testkit::describe_exception(caught_as<const char*>([] { throw "boom"; })),
            "const char*(\"boom\")");
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(std::string("boom"))),
            "std::string(\"boom\")");
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(NotAStdException{})),
            "NotAStdException")
      << "any other type: its name";
  EXPECT_EQ(testkit::describe_exception(std::make_exception_ptr(2.5)), "double");
  EXPECT_NE(testkit::describe_exception(std::make_exception_ptr(7)),
            testkit::describe_exception(std::make_exception_ptr(8)));
}

TEST(DescribeException, SaysSoWhenThereIsNoException) {
  EXPECT_EQ(testkit::describe_exception(nullptr), "no exception");
}

TEST(DescribeException, WorksOnAnyThreadAndLeavesNoExceptionBehind) {
  // Kata tests describe exceptions that workers caught; the call itself throws nothing out.
  std::string seen;
  std::thread([&] {
    seen = testkit::describe_exception(std::make_exception_ptr(Rejected("on a worker")));
  }).join();
  EXPECT_EQ(seen, "Rejected(\"on a worker\")");
  EXPECT_EQ(std::current_exception(), nullptr);
}

TEST(TypeName, IsTheReadableName) {
  EXPECT_EQ(testkit::type_name(typeid(std::out_of_range)), "std::out_of_range");
  EXPECT_EQ(testkit::type_name(typeid(int)), "int");
  EXPECT_EQ(testkit::type_name(typeid(library::Failure)), "library::Failure");
}

}  // namespace
