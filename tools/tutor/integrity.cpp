#include "integrity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "files.hpp"

namespace tutor {

namespace fs = std::filesystem;

namespace {

struct Pattern {
  std::regex regex;
  const char* what;  // {} is replaced by what the regex's first group matched
  bool voids_tests = false;
};

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> all = [] {
    const auto flags = std::regex::ECMAScript | std::regex::optimize;
    auto p = [&](const char* re, const char* what, bool voids = false) {
      return Pattern{std::regex(re, flags), what, voids};
    };
    return std::vector<Pattern>{
        p(R"(#\s*(?:define|undef)\s+((?:TEST|TEST_F|TEST_P|TYPED_TEST|FAIL|SUCCEED|RUN_ALL_TESTS|(?:EXPECT|ASSERT|GTEST|ADD_FAILURE)\w*))\b)",
          "redefines GoogleTest's macro {}: the tests no longer check what they say, so none of "
          "them counts",
          true),
        p(R"((/proc/self/cmdline|/proc/self/exe|gtest_output|GTEST_OUTPUT|--gtest_\w*))",
          "reads the test's command line or report path ({}): a kata never needs it"),
        p(R"(\b((?:__tsan|__sanitizer|__asan|__ubsan|__lsan)_\w+))",
          "uses the sanitizer hook {}: it can silence ThreadSanitizer"),
        p(R"(\b((?:testing|gtest)::\w+))",
          "reaches into GoogleTest ({}): kata code has no business with the test framework"),
        p(R"(\bint\s+(main)\s*\()", "defines {}(): it would replace GoogleTest's own"),
        p(R"(#\s*include\s*["<]([^">]*(?:\.\./|solutions/)[^">]*)[">])",
          "includes {}, a file from outside the kata"),
        p(R"(#\s*include\s*["<](/[^">]*)[">])", "includes {}, a file from outside the kata"),
        p(R"(\b(syscall)\s*\()", "makes a raw system call ({}()), around the test's guards"),
        p(R"(\b(kill\s*\(\s*getppid)\b)", "signals its parent process ({}()): the grader?"),
    };
  }();
  return all;
}

// The text as the preprocessor reads directives: continued lines joined, comments removed
// (`#/**/define` is a #define). String literals are kept: a path in one is what we look for.
std::string preprocessed_view(const std::string& code) {
  std::string joined;
  for (std::size_t i = 0; i < code.size(); ++i) {
    if (code[i] == '\\' && i + 1 < code.size() && code[i + 1] == '\n') {
      ++i;
      continue;
    }
    joined += code[i];
  }
  std::string out;
  for (std::size_t i = 0; i < joined.size(); ++i) {
    if (joined.compare(i, 2, "//") == 0) {
      while (i < joined.size() && joined[i] != '\n') ++i;
      out += '\n';
    } else if (joined.compare(i, 2, "/*") == 0) {
      const auto end = joined.find("*/", i + 2);
      i = end == std::string::npos ? joined.size() : end + 1;
      out += ' ';
    } else {
      out += joined[i];
    }
  }
  return out;
}

}  // namespace

std::vector<Finding> suspicious_constructs(const std::string& original) {
  const std::string code = preprocessed_view(original);
  std::vector<Finding> found;
  std::set<std::string> seen;
  for (const auto& pattern : patterns()) {
    for (std::sregex_iterator it(code.begin(), code.end(), pattern.regex), end; it != end; ++it) {
      std::string what = pattern.what;
      what.replace(what.find("{}"), 2, (*it)[1].str());
      if (seen.insert(what).second) found.push_back({what, pattern.voids_tests});
    }
  }
  return found;
}

std::vector<Finding> inspect_kata_files(const Kata& kata, const fs::path& code_dir,
                                        const std::string& shown_as) {
  std::vector<Finding> flags;
  std::error_code ec;
  std::vector<std::string> extra;
  for (const auto& entry : fs::directory_iterator(code_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (std::find(kata.files.begin(), kata.files.end(), name) == kata.files.end())
      extra.push_back(name);
  }
  std::sort(extra.begin(), extra.end());
  for (const auto& name : extra)
    flags.push_back(
        {fmt::format("{}/{} is not a file of this kata (curriculum.json lists {}): it "
                     "is not compiled or graded",
                     shown_as, name, fmt::join(kata.files, ", "))});
  for (const auto& name : kata.files) {
    const fs::path file = code_dir / name;
    if (fs::is_symlink(file, ec)) {
      flags.push_back({fmt::format("{}/{} is a symbolic link, not a file", shown_as, name)});
      continue;
    }
    for (auto finding : suspicious_constructs(read_file(file))) {
      finding.text = fmt::format("{}/{} {}", shown_as, name, finding.text);
      flags.push_back(finding);
    }
  }
  return flags;
}

}  // namespace tutor
