#include "workspace.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "errors.hpp"
#include "integrity.hpp"
#include "subprocess.hpp"

#ifndef TUTOR_CMAKE_COMMAND
#define TUTOR_CMAKE_COMMAND "/usr/bin/cmake"
#endif
#ifndef TUTOR_CXX_COMPILER
#define TUTOR_CXX_COMPILER "c++"
#endif

namespace tutor {

namespace fs = std::filesystem;

namespace {

// What a workspace holds of the trusted course: everything the katas' build reads.
const char* const kTrustedParts[] = {"CMakeLists.txt", "curriculum.json", "cmake", "support",
                                     "tests/support",  "tools/sandbox",   "katas"};
// Larger than any kata file: a learner's file beyond it is not copied (and is flagged).
constexpr std::uintmax_t kMaxKataFile = 1024 * 1024;

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Copies `from` to `to` only if the content differs: an unchanged file keeps its time, so the
// build does not redo what it did last time.
void copy_if_changed(const fs::path& from, const fs::path& to) {
  const std::string content = read_all(from);
  std::error_code ec;
  const auto mode = fs::status(from, ec).permissions();  // tools/sandbox/compile must stay runnable
  if (fs::exists(to, ec) && !fs::is_symlink(to, ec) && read_all(to) == content) {
    fs::permissions(to, mode, ec);
    return;
  }
  fs::create_directories(to.parent_path());
  fs::remove(to, ec);
  std::ofstream(to, std::ios::binary) << content;
  fs::permissions(to, mode, ec);
}

void copy_tree_if_changed(const fs::path& from, const fs::path& to) {
  if (fs::is_regular_file(from)) return copy_if_changed(from, to);
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    copy_if_changed(entry.path(), to / fs::relative(entry.path(), from));
  }
}

// Files of the learner's checkout that differ from the trusted course (tests, testkit, build
// files, manifest): the trusted copies are graded; each difference is named.
void flag_edited_trusted_files(const fs::path& trusted, const fs::path& learner,
                               const Manifest& manifest, Workspace& ws) {
  std::vector<fs::path> files = {"CMakeLists.txt", "curriculum.json"};
  for (const char* dir : {"cmake", "support", "tests/support"})
    for (const auto& e : fs::recursive_directory_iterator(trusted / dir))
      if (e.is_regular_file()) files.push_back(fs::relative(e.path(), trusted));
  for (const auto& kata : manifest.katas) files.push_back(kata.test_file());
  for (const auto& file : files) {
    std::string note;
    if (!fs::exists(learner / file)) {
      note =
          fmt::format("{} is missing from the checkout (the trusted copy was used)", file.string());
    } else if (read_all(learner / file) != read_all(trusted / file)) {
      note = fmt::format("{} differs from the trusted copy (the trusted copy was graded)",
                         file.string());
    } else {
      continue;
    }
    bool placed = false;
    for (const auto& kata : manifest.katas)
      if (file == kata.test_file()) {
        ws.kata_flags[kata.id].push_back(note);
        placed = true;
      }
    if (!placed) ws.flags.push_back(note);
  }
}

}  // namespace

Workspace prepare_workspace(const fs::path& trusted, const Manifest& manifest,
                            const fs::path& learner, const fs::path& work_dir) {
  std::error_code ec;
  if (!fs::is_directory(learner, ec))
    throw TutorError(fmt::format("{} is not a folder", learner.string()),
                     "Give the folder of a learner's checkout of this course.");
  if (access(learner.c_str(), R_OK | X_OK) != 0)
    throw TutorError(fmt::format("{} cannot be read", learner.string()),
                     "Check the folder's permissions.");
  if (!fs::is_directory(learner / "katas", ec))
    throw TutorError(
        fmt::format("{} has no katas/ folder", learner.string()),
        "Is it a checkout of this course? Its katas/ folder holds the learner's work.");
  for (const char* part : kTrustedParts)
    if (!fs::exists(trusted / part, ec))
      throw TutorError(fmt::format("the trusted course {} has no {}", trusted.string(), part),
                       "Give --tests-from a checkout of this course.");

  Workspace ws;
  const fs::path tree = work_dir / "tree";
  for (const char* part : kTrustedParts)
    if (std::string(part) != "katas") copy_tree_if_changed(trusted / part, tree / part);
  for (const auto& kata : manifest.katas)
    copy_if_changed(trusted / kata.test_file(), tree / kata.test_file());
  fs::create_directories(tree / "solutions");  // empty: a learner's include of it finds nothing

  // The learner's files: only those the manifest lists, only regular files of sane size.
  for (const auto& kata : manifest.katas) {
    const fs::path from_dir = learner / "katas" / kata.dir;
    const std::string shown = "katas/" + kata.dir;
    auto& flags = ws.kata_flags[kata.id];
    if (fs::is_directory(from_dir, ec))
      for (const auto& finding : inspect_kata_files(kata, from_dir, shown))
        if (finding.text.find("is not a file of this kata") != std::string::npos ||
            finding.text.find("symbolic link") != std::string::npos)
          flags.push_back(finding.text);
    for (const auto& file : kata.files) {
      const fs::path from = from_dir / file;
      const fs::path to = tree / "katas" / kata.dir / file;
      if (fs::is_symlink(from, ec) || !fs::is_regular_file(from, ec)) {
        if (!fs::exists(from, ec))
          flags.push_back(fmt::format("{}/{} is missing: the starter was graded", shown, file));
        copy_if_changed(trusted / "katas" / kata.dir / file, to);
        continue;
      }
      if (fs::file_size(from, ec) > kMaxKataFile) {
        flags.push_back(
            fmt::format("{}/{} is larger than 1 MB: the starter was graded", shown, file));
        copy_if_changed(trusted / "katas" / kata.dir / file, to);
        continue;
      }
      copy_if_changed(from, to);
    }
  }
  flag_edited_trusted_files(trusted, learner, manifest, ws);

  // Configure once; later runs reuse the build folder (CMake re-runs itself when needed).
  ws.paths = {tree, work_dir / "build", work_dir, ""};
  if (!fs::exists(ws.paths.build_dir / "CMakeCache.txt")) {
    RunRequest configure;
    configure.argv = {TUTOR_CMAKE_COMMAND,
                      "-S",
                      tree.string(),
                      "-B",
                      ws.paths.build_dir.string(),
                      "-DKATAS_ONLY=ON",
                      "-DCMAKE_CXX_COMPILER=" TUTOR_CXX_COMPILER};
    if (fs::exists(TUTOR_BUILD_DIR "/build.ninja")) {
      configure.argv.push_back("-G");
      configure.argv.push_back("Ninja");
    }
    configure.timeout = std::chrono::minutes(5);
    RunResult r = run_command(configure);
    if (!r.ok())
      throw TutorError(fmt::format("could not configure the grading workspace {}:\n{}",
                                   ws.paths.build_dir.string(), r.output),
                       "Does `make check` work in the trusted checkout?");
  }
  return ws;
}

std::vector<KataResult> grade_workspace(const Workspace& ws, const std::vector<const Kata*>& katas,
                                        std::size_t katas_in_manifest) {
  GradeOptions options;
  auto results = grade_katas(katas, katas_in_manifest, ws.paths, options, {});
  for (auto& r : results) {
    auto found = ws.kata_flags.find(r.id);
    if (found == ws.kata_flags.end()) continue;
    std::set<std::string> seen(r.flags.begin(), r.flags.end());
    for (const auto& f : found->second)
      if (seen.insert(f).second) r.flags.push_back(f);
  }
  return results;
}

}  // namespace tutor
