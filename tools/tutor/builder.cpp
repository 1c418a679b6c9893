#include "builder.hpp"

#include <fmt/format.h>

#include <sstream>

#include "gtest_runner.hpp"
#include "subprocess.hpp"

#ifndef TUTOR_CMAKE_COMMAND
#define TUTOR_CMAKE_COMMAND "/usr/bin/cmake"
#endif

namespace tutor {

BuildResult build_targets(const std::filesystem::path& build_dir,
                          const std::vector<std::string>& targets, bool keep_going, int jobs) {
  RunRequest request;
  request.argv = {TUTOR_CMAKE_COMMAND,  "--build", build_dir.string(), "--parallel",
                  std::to_string(jobs), "--target"};
  for (const auto& t : targets) request.argv.push_back(t);
  if (keep_going) {
    request.argv.push_back("--");
    request.argv.push_back("-k");
  }
  request.timeout = std::chrono::minutes(20);
  request.max_output = 2 * 1024 * 1024;
  RunResult r = run_command(request);
  BuildResult result;
  result.ok = r.ok();
  result.output = std::move(r.output);
  result.seconds = r.seconds;
  if (!result.ok) {
    result.first_error = first_compiler_error(result.output, TUTOR_SOURCE_DIR);
    if (r.timed_out) result.first_error = "the build did not finish within 20 minutes";
  }
  return result;
}

std::string first_compiler_error(const std::string& output,
                                 const std::filesystem::path& source_dir) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const bool compiler = line.find(": error: ") != std::string::npos ||
                          line.find(": fatal error: ") != std::string::npos;
    const bool linker = line.find("undefined reference to") != std::string::npos;
    if (!compiler && !linker) continue;
    std::string found = line;
    // g++ follows an error with the offending source line and a caret under it.
    for (int i = 0; i < 2 && compiler; ++i) {
      std::string next;
      if (!std::getline(lines, next)) break;
      if (next.find(": note: ") != std::string::npos || next.find(": error: ") != std::string::npos)
        break;
      found += "\n" + next;
    }
    return shorten_paths(found, source_dir);
  }
  // No recognisable error line: show the end of the output, where make says what failed.
  auto tail_at = output.size() > 600 ? output.size() - 600 : 0;
  return shorten_paths(output.substr(tail_at), source_dir);
}

}  // namespace tutor
