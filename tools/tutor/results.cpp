#include "results.hpp"

#include <algorithm>

namespace tutor {

std::string status_name(Status status) {
  switch (status) {
    case Status::Pass:
      return "PASS";
    case Status::Fail:
      return "FAIL";
    case Status::Timeout:
      return "TIMEOUT";
    case Status::Crash:
      return "CRASH";
    case Status::BuildError:
      return "BUILD ERROR";
    case Status::NotRun:
      return "NOT RUN";
  }
  return "?";
}

int KataResult::passed() const {
  return static_cast<int>(std::count_if(tests.begin(), tests.end(),
                                        [](const auto& t) { return t.status == Status::Pass; }));
}

int KataResult::failed() const { return static_cast<int>(tests.size()) - passed(); }

Status overall_status(const std::vector<TestResult>& tests) {
  auto any = [&](Status s) {
    return std::any_of(tests.begin(), tests.end(), [&](const auto& t) { return t.status == s; });
  };
  if (tests.empty()) return Status::NotRun;
  if (any(Status::Crash)) return Status::Crash;
  if (any(Status::Timeout)) return Status::Timeout;
  if (any(Status::Fail) || any(Status::NotRun)) return Status::Fail;
  return Status::Pass;
}

int headline_rank(const TestResult& test) {
  if (test.refused) return 0;
  switch (test.status) {
    case Status::Fail:
      return 1;
    case Status::Timeout:
    case Status::Crash:
      return test.explained ? 2 : 3;
    default:
      return 4;
  }
}

void finish_kata(KataResult& kata, const std::vector<std::string>& headline_first) {
  if (kata.status != Status::BuildError) {
    kata.status = overall_status(kata.tests);
    auto preference = [&](const TestResult& t) {
      const auto dot = t.name.find('.');
      const std::string bare = dot == std::string::npos ? t.name : t.name.substr(dot + 1);
      for (std::size_t i = 0; i < headline_first.size(); ++i)
        if (headline_first[i] == t.name || headline_first[i] == bare) return i;
      return headline_first.size();
    };
    const TestResult* headline = nullptr;
    for (const auto& t : kata.tests) {
      if (t.status == Status::Pass) continue;
      if (headline == nullptr || headline_rank(t) < headline_rank(*headline) ||
          (headline_rank(t) == headline_rank(*headline) && preference(t) < preference(*headline)))
        headline = &t;
    }
    if (headline != nullptr) {
      kata.message = headline->name + ": " + headline->message;
      kata.summary = headline->name + ": " + headline->summary;
    }
    if (kata.status == Status::NotRun) kata.summary = kata.message = "no tests were found";
  }
  kata.points = kata.tests.empty() ? 0.0
                                   : kata.points_possible * static_cast<double>(kata.passed()) /
                                         static_cast<double>(kata.tests.size());
}

std::string one_line(const std::string& text, std::size_t width) {
  std::string line;
  // The last non-empty line is what the test author wrote (GoogleTest puts its own
  // "Value of / Actual / Expected" lines first).
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = text.rfind('\n', end - 1);
    start = (start == std::string::npos) ? 0 : start + 1;
    std::string candidate = text.substr(start, end - start);
    auto first = candidate.find_first_not_of(" \t\r");
    if (first != std::string::npos) {
      line = candidate.substr(first);
      break;
    }
    if (start == 0) break;
    end = start - 1;
  }
  // EXPECT_TRUE(check()) where check() returns a ::testing::AssertionResult leaves no message
  // of the author's own after GoogleTest's lines: the author's words are the parenthesis
  // after "Actual: false" ("  Actual: false (the pieces overlap ...)\nExpected: true").
  if (line == "Expected: true" || line == "Expected: false") {
    const std::string actual = line == "Expected: true" ? "Actual: false (" : "Actual: true (";
    const auto open = text.rfind(actual, end);
    const auto close = text.rfind(')', end);
    if (open != std::string::npos && close != std::string::npos && close > open + actual.size()) {
      line = text.substr(open + actual.size(), close - open - actual.size());
      for (char& c : line) c = c == '\n' ? ' ' : c;
    }
  }
  if (line.size() > width) line = line.substr(0, width - 3) + "...";
  return line;
}

}  // namespace tutor
