// The curriculum manifest (curriculum.json): lessons and katas in course order.
// It is the only list of katas; CMake reads the same file with string(JSON).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "limits.hpp"

namespace tutor {

struct Lesson {
  std::string id;   // "01"
  std::string dir;  // "01-threads" (under lessons/)
  std::string title;
};

struct Kata {
  std::string id;      // "01a"
  std::string dir;     // "01a-spawn-and-join" (under katas/ and solutions/)
  std::string lesson;  // lesson id
  std::string title;
  std::vector<std::string> files;  // what the learner edits, relative to katas/<dir>/
  std::vector<std::string> hints;  // gentle to explicit
  int timeout_seconds = 10;        // per test
  bool tsan = false;               // also graded under ThreadSanitizer
  int points = 10;
  Limits limits;
  std::vector<std::string> headline_first;  // tests whose failure tells most (see finish_kata)
  // An MPI kata (lesson 11): each test runs under mpirun on this many ranks, and passes only if
  // it passes on every rank (gtest_runner.hpp). 0: an ordinary kata, one process per test.
  int mpi_ranks = 0;
  std::vector<std::string> link;  // CMake targets its test links besides the testkit ("link")

  std::string test_file() const { return "tests/" + dir + "_test.cpp"; }
  // The runtime ThreadSanitizer cannot see into, if the kata uses one: "oneTBB", "OpenMP" or
  // "MPI". Debian's libraries are not built with -fsanitize=thread, so TSan misses their
  // synchronisation and reports races in code that has none. Empty: TSan can grade the kata.
  std::string tsan_blind_spot() const;
};

struct Manifest {
  std::string welcome;
  std::string farewell;
  std::vector<Lesson> lessons;
  std::vector<Kata> katas;

  const Kata* find_kata(const std::string& id_or_dir) const;
  const Lesson* find_lesson(const std::string& id) const;
};

// Parses manifest text. Throws std::runtime_error with a message that names the field and the
// kata when something is missing or wrong, so a contributor's typo is easy to find.
Manifest parse_manifest(const std::string& json_text);
Manifest load_manifest(const std::filesystem::path& file);

// Checks the manifest against the files on disk (starter, solution and test of every kata, the
// lesson folder). Returns one line per problem; empty when all is well.
std::vector<std::string> validate_layout(const Manifest& manifest,
                                         const std::filesystem::path& source_dir);

}  // namespace tutor
