#include "builder.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "gtest_runner.hpp"
#include "subprocess.hpp"

#ifndef TUTOR_CMAKE_COMMAND
#define TUTOR_CMAKE_COMMAND "/usr/bin/cmake"
#endif

namespace tutor {

namespace {

// Ninja, as CMake chose it for a folder it configured with Ninja (CMAKE_MAKE_PROGRAM in its
// cache); "" for any other build tool.
std::string ninja_program(const std::filesystem::path& build_dir) {
  if (!std::filesystem::exists(build_dir / "build.ninja")) return "";
  std::ifstream cache(build_dir / "CMakeCache.txt");
  static constexpr std::string_view kKey = "CMAKE_MAKE_PROGRAM:";
  for (std::string line; std::getline(cache, line);)
    if (line.starts_with(kKey) && line.find('=') != std::string::npos)
      return line.substr(line.find('=') + 1);
  return "";
}

}  // namespace

BuildResult build_targets(const std::filesystem::path& build_dir,
                          const std::vector<std::string>& targets, bool keep_going,
                          const std::function<void(int, int)>& on_progress,
                          std::chrono::seconds time_limit) {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const int jobs = cores > 0 ? static_cast<int>(cores) : 2;
  RunRequest request;
  const std::string ninja = ninja_program(build_dir);
  if (!ninja.empty()) {
    // Ninja itself: `cmake --build` would only start it, ~0.05 s later on every save.
    request.argv = {ninja, "-C", build_dir.string(), "-j", std::to_string(jobs)};
    if (keep_going) request.argv.insert(request.argv.end(), {"-k", "0"});  // no limit on failures
    request.argv.insert(request.argv.end(), targets.begin(), targets.end());
  } else {
    request.argv = {TUTOR_CMAKE_COMMAND,  "--build", build_dir.string(), "--parallel",
                    std::to_string(jobs), "--target"};
    for (const auto& t : targets) request.argv.push_back(t);
    if (keep_going) request.argv.insert(request.argv.end(), {"--", "-k"});  // make's keep going
  }
  request.timeout = time_limit;
  request.max_output = 2 * 1024 * 1024;
  if (on_progress) {
    // Ninja prints "[12/40] ..." and make "[ 30%] ..." at the start of a line.
    auto pending = std::make_shared<std::string>();
    request.on_output = [pending, on_progress](std::string_view chunk) {
      pending->append(chunk);
      std::size_t end;
      while ((end = pending->find('\n')) != std::string::npos) {
        const std::string line = pending->substr(0, end);
        pending->erase(0, end + 1);
        int done = 0, total = 0;
        if (std::sscanf(line.c_str(), "[%d/%d]", &done, &total) == 2 ||
            (std::sscanf(line.c_str(), "[%d%%]", &done) == 1 && (total = 100)))
          on_progress(done, total);
      }
    };
  }
  // One build at a time per build folder, across threads and processes: two ninja runs in one
  // folder race on its logs and may both re-run CMake (a watch session and a `make test` in
  // another terminal; a kata's plain and TSan builds). flock() locks belong to the open file,
  // so two threads of one tutor exclude each other too; the lock goes with the descriptor.
  const int lock_fd =
      open((build_dir / ".tutor-build.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd >= 0) {
    while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  RunResult r = run_command(request);
  if (lock_fd >= 0) close(lock_fd);
  BuildResult result;
  result.ok = r.ok();
  result.output = std::move(r.output);
  result.seconds = r.seconds;
  if (!result.ok) {
    result.first_error = first_compiler_error(result.output, TUTOR_SOURCE_DIR);
    if (r.timed_out)
      result.first_error = fmt::format(
          "the build did not finish within {} s, so it was stopped: is there code the compiler "
          "cannot finish (templates or constexpr that recurse without end, an #include of "
          "something endless)?",
          time_limit.count());
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
