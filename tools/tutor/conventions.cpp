#include "conventions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "integrity.hpp"
#include "subprocess.hpp"

namespace tutor {

namespace fs = std::filesystem;

namespace {

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

bool is_cpp(const fs::path& file) {
  const auto ext = file.extension();
  return ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".cc";
}

std::vector<fs::path> cpp_files(const fs::path& source_dir) {
  std::vector<fs::path> files;
  for (const char* top :
       {"tools", "tests", "katas", "solutions", "lessons", "bench", "cmake", "support"}) {
    const fs::path dir = source_dir / top;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file() && is_cpp(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string relative_to(const fs::path& file, const fs::path& source_dir) {
  return fs::relative(file, source_dir).string();
}

Convention formatting(const fs::path& source_dir) {
  Convention c{"every C++ file is clang-format clean (.clang-format; fix: clang-format -i FILE)",
               {}};
  const auto files = cpp_files(source_dir);
  RunRequest request;
  request.argv = {"/usr/bin/clang-format", "--dry-run", "--Werror"};
  for (const auto& f : files) request.argv.push_back(f.string());
  request.timeout = std::chrono::seconds(120);
  request.working_dir = source_dir.string();
  RunResult r = run_command(request);
  if (r.start_failed) {
    c.problems.push_back("clang-format is not installed: make deps installs it");
    return c;
  }
  // "<file>:<line>:<col>: error: code should be clang-formatted": keep the first per file.
  std::set<std::string> seen;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find(": error: code should be clang-formatted");
    if (at == std::string::npos) continue;
    std::string where = line.substr(0, at);
    const std::string file = where.substr(0, where.find(':'));
    if (!seen.insert(file).second) continue;
    c.problems.push_back(
        fmt::format("{}: not formatted (the first difference is here)",
                    relative_to(fs::path(where.substr(0, where.find(':'))), source_dir) +
                        where.substr(where.find(':'))));
  }
  if (!r.ok() && c.problems.empty()) c.problems.push_back("clang-format failed: " + r.output);
  return c;
}

Convention todos(const Manifest& manifest, const fs::path& source_dir) {
  Convention c{"every starter marks where the learner acts with // TODO", {}};
  for (const auto& kata : manifest.katas) {
    bool found = false;
    for (const auto& file : kata.files) {
      std::ifstream in(source_dir / "katas" / kata.dir / file);
      std::stringstream text;
      text << in.rdbuf();
      found = found || text.str().find("// TODO") != std::string::npos;
    }
    if (!found)
      c.problems.push_back(
          fmt::format("katas/{}/{}: kata {} has no `// TODO` where the learner must act", kata.dir,
                      kata.files.front(), kata.id));
  }
  return c;
}

Convention titles(const Manifest& manifest, const fs::path& source_dir) {
  Convention c{"each kata file opens with `// Kata <id> · <its title in curriculum.json>`", {}};
  for (const auto& kata : manifest.katas) {
    const std::string expected = fmt::format("// Kata {} · {}", kata.id, kata.title);
    for (const char* side : {"katas", "solutions"}) {
      const fs::path file = source_dir / side / kata.dir / kata.files.front();
      if (!fs::exists(file)) continue;
      const std::string line = first_line(file);
      if (line != expected)
        c.problems.push_back(fmt::format("{}/{}/{}:1: the first line is \"{}\", expected \"{}\"",
                                         side, kata.dir, kata.files.front(), line, expected));
    }
  }
  return c;
}

Convention ownership(const Manifest& manifest, const fs::path& source_dir) {
  Convention c{
      "every file under katas/, solutions/ and tests/ belongs to a kata of curriculum.json, and "
      "katas/ and solutions/ mirror each other",
      {}};
  std::set<std::string> dirs, test_files;
  for (const auto& kata : manifest.katas) {
    dirs.insert(kata.dir);
    test_files.insert(fs::path(kata.test_file()).filename().string());
  }
  for (const char* side : {"katas", "solutions"}) {
    const fs::path top = source_dir / side;
    if (!fs::exists(top)) continue;
    const char* other = std::string(side) == "katas" ? "solutions" : "katas";
    for (const auto& entry : fs::directory_iterator(top)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory() || !dirs.count(name)) {
        c.problems.push_back(
            fmt::format("{}/{}: no kata in curriculum.json has this folder", side, name));
        continue;
      }
      for (const auto& file : fs::recursive_directory_iterator(entry.path())) {
        if (!file.is_regular_file()) continue;
        const auto inside = fs::relative(file.path(), top);
        if (!fs::exists(source_dir / other / inside))
          c.problems.push_back(fmt::format("{}/{}: has no twin {}/{}", side, inside.string(), other,
                                           inside.string()));
      }
    }
  }
  const fs::path tests = source_dir / "tests";
  if (fs::exists(tests)) {
    for (const auto& entry : fs::directory_iterator(tests)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory() && (name == "support" || name == "tutor")) continue;
      if (!test_files.count(name))
        c.problems.push_back(fmt::format(
            "tests/{}: belongs to no kata (a kata's test is tests/<dir>_test.cpp; helpers go to "
            "tests/support/)",
            name));
    }
  }
  return c;
}

Convention hints(const Manifest& manifest) {
  Convention c{
      "every kata has 2 or 3 hints, none over 400 characters (a hint guides; it is not "
      "the solution)",
      {}};
  for (const auto& kata : manifest.katas) {
    if (kata.hints.size() < 2 || kata.hints.size() > 3)
      c.problems.push_back(
          fmt::format("curriculum.json: kata {} has {} hints", kata.id, kata.hints.size()));
    for (std::size_t i = 0; i < kata.hints.size(); ++i)
      if (kata.hints[i].size() > 400)
        c.problems.push_back(fmt::format("curriculum.json: hint {} of kata {} is {} characters",
                                         i + 1, kata.id, kata.hints[i].size()));
  }
  return c;
}

// The grader flags constructs that game a grade (integrity.hpp); a starter or a solution must
// never be flagged, or every learner who keeps it would be.
Convention unflagged(const Manifest& manifest, const fs::path& source_dir) {
  Convention c{"no starter or solution uses what the grader flags as gaming the grade", {}};
  for (const auto& kata : manifest.katas)
    for (const char* side : {"katas", "solutions"})
      for (const auto& finding : inspect_kata_files(kata, source_dir / side / kata.dir,
                                                    fmt::format("{}/{}", side, kata.dir)))
        c.problems.push_back(finding.text);
  return c;
}

}  // namespace

std::vector<Convention> check_conventions(const Manifest& manifest, const fs::path& source_dir) {
  Convention layout{"curriculum.json: every lesson, starter, solution and test file in place",
                    validate_layout(manifest, source_dir)};
  return {layout,
          formatting(source_dir),
          todos(manifest, source_dir),
          titles(manifest, source_dir),
          ownership(manifest, source_dir),
          hints(manifest),
          unflagged(manifest, source_dir)};
}

}  // namespace tutor
