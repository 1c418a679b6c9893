// Reading a whole file, as the tutor's parts that look at files (cgroup counters, learners'
// kata files, the trusted course) all do. A file that cannot be read reads as empty.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tutor {

inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tutor
