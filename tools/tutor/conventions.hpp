// The repository's conventions, checked by `make check` (CONTRIBUTING.md states them). Each
// problem is one line that names the file (and line, where there is one) and the rule.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "manifest.hpp"

namespace tutor {

struct Convention {
  std::string rule;                   // what `make check` prints on its line
  std::vector<std::string> problems;  // empty: the rule holds
};

// Every C++ file is clang-format clean (the root .clang-format); every starter has a
// `// TODO`; the first line of a kata's files is `// Kata <id> · <title from the manifest>`;
// every file under katas/, solutions/ and tests/ belongs to a manifest row, and katas/ and
// solutions/ mirror each other file for file; hints guide without being the solution (2 or 3,
// none over 400 characters).
std::vector<Convention> check_conventions(const Manifest& manifest,
                                          const std::filesystem::path& source_dir);

}  // namespace tutor
