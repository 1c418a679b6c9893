// Builds CMake targets and turns a compiler's wall of text into the one error that matters.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tutor {

struct BuildResult {
  bool ok = false;
  std::string first_error;  // "katas/01a-.../x.hpp:12:5: error: ..." plus the source line
  std::string output;
  double seconds = 0;
};

// `cmake --build <build_dir> --target <targets...>`. keep_going builds all it can.
// Builds run one at a time (a lock inside); `jobs` is the build tool's own parallelism.
// `on_progress(done, total)` is called as the build tool reports steps, where it does.
// `time_limit` bounds the build itself (not the wait for the lock): one kata's build gets
// kKataBuildLimit, so that code the compiler cannot finish costs only that kata.
inline constexpr std::chrono::seconds kKataBuildLimit{150};
BuildResult build_targets(const std::filesystem::path& build_dir,
                          const std::vector<std::string>& targets, bool keep_going = false,
                          const std::function<void(int, int)>& on_progress = {},
                          std::chrono::seconds time_limit = std::chrono::minutes(20));

// The first compiler or linker error in `output`, with the two lines after it (the source
// line and the caret), paths relative to `source_dir`.
std::string first_compiler_error(const std::string& output,
                                 const std::filesystem::path& source_dir);

}  // namespace tutor
