#include "workspace.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "builder.hpp"
#include "errors.hpp"
#include "files.hpp"
#include "integrity.hpp"
#include "jobs.hpp"
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

// Copies `from` to `to` only if the content differs: an unchanged file keeps its time, so the
// build does not redo what it did last time.
void copy_if_changed(const fs::path& from, const fs::path& to) {
  const std::string content = read_file(from);
  std::error_code ec;
  const auto mode = fs::status(from, ec).permissions();  // tools/sandbox/compile must stay runnable
  if (fs::exists(to, ec) && !fs::is_symlink(to, ec) && read_file(to) == content) {
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
void flag_edited_trusted_files(const fs::path& trusted, const Manifest& manifest,
                               LearnerPlan& plan) {
  std::vector<fs::path> files = {"CMakeLists.txt", "curriculum.json"};
  for (const char* dir : {"cmake", "support", "tests/support"})
    for (const auto& e : fs::recursive_directory_iterator(trusted / dir))
      if (e.is_regular_file()) files.push_back(fs::relative(e.path(), trusted));
  for (const auto& kata : manifest.katas) files.push_back(kata.test_file());
  for (const auto& file : files) {
    std::string note;
    if (!fs::exists(plan.checkout / file)) {
      note =
          fmt::format("{} is missing from the checkout (the trusted copy was used)", file.string());
    } else if (read_file(plan.checkout / file) != read_file(trusted / file)) {
      note = fmt::format("{} differs from the trusted copy (the trusted copy was graded)",
                         file.string());
    } else {
      continue;
    }
    bool placed = false;
    for (const auto& kata : manifest.katas)
      if (file == kata.test_file()) {
        plan.kata_flags[kata.id].push_back(note);
        placed = true;
      }
    if (!placed) plan.flags.push_back(note);
  }
}

void check_trusted(const fs::path& trusted) {
  std::error_code ec;
  for (const char* part : kTrustedParts)
    if (!fs::exists(trusted / part, ec))
      throw TutorError(fmt::format("the trusted course {} has no {}", trusted.string(), part),
                       "Give --tests-from a checkout of this course.");
}

}  // namespace

LearnerPlan plan_learner(const fs::path& trusted, const Manifest& manifest,
                         const fs::path& checkout, const std::string& name) {
  std::error_code ec;
  if (!fs::is_directory(checkout, ec))
    throw TutorError(fmt::format("{} is not a folder", checkout.string()),
                     "Give the folder of a learner's checkout of this course.");
  if (access(checkout.c_str(), R_OK | X_OK) != 0)
    throw TutorError(fmt::format("{} cannot be read", checkout.string()),
                     "Check the folder's permissions.");
  if (!fs::is_directory(checkout / "katas", ec))
    throw TutorError(
        fmt::format("{} has no katas/ folder", checkout.string()),
        "Is it a checkout of this course? Its katas/ folder holds the learner's work.");
  check_trusted(trusted);
  LearnerPlan plan;
  plan.name = name;
  plan.checkout = checkout;
  // The learner's files: only those the manifest lists, only regular files of sane size; the
  // starter stands in for what is missing.
  for (const auto& kata : manifest.katas) {
    const fs::path from_dir = checkout / "katas" / kata.dir;
    const std::string shown = "katas/" + kata.dir;
    auto& flags = plan.kata_flags[kata.id];
    if (fs::is_directory(from_dir, ec))
      for (const auto& finding : inspect_kata_files(kata, from_dir, shown))
        if (finding.text.find("is not a file of this kata") != std::string::npos ||
            finding.text.find("symbolic link") != std::string::npos)
          flags.push_back(finding.text);
    for (const auto& file : kata.files) {
      const fs::path from = from_dir / file;
      const fs::path starter = trusted / "katas" / kata.dir / file;
      std::string& text = plan.files[kata.id][file];
      if (fs::is_symlink(from, ec) || !fs::is_regular_file(from, ec)) {
        if (!fs::exists(from, ec))
          flags.push_back(fmt::format("{}/{} is missing: the starter was graded", shown, file));
        text = read_file(starter);
      } else if (fs::file_size(from, ec) > kMaxKataFile) {
        flags.push_back(
            fmt::format("{}/{} is larger than 1 MB: the starter was graded", shown, file));
        text = read_file(starter);
      } else {
        text = read_file(from);
      }
    }
  }
  flag_edited_trusted_files(trusted, manifest, plan);
  return plan;
}

std::string SharedBuild::key(const std::string& kata_id,
                             const std::map<std::string, std::string>& files) const {
  std::string all = kata_id;
  for (const auto& [name, text] : files) all += '\0' + name + '\0' + text;
  return fmt::format("{}-{:016x}", kata_id, std::hash<std::string>{}(all));
}

SharedBuild::SharedBuild(const fs::path& trusted, const Manifest& manifest,
                         const std::vector<LearnerPlan>& plans, const fs::path& work_dir)
    : work_dir_(work_dir), build_dir_(work_dir / "build") {
  check_trusted(trusted);
  // The trusted tree: what the katas' build reads, and no solutions/.
  const fs::path tree = work_dir / "trusted";
  for (const char* part : kTrustedParts) copy_tree_if_changed(trusted / part, tree / part);
  for (const auto& kata : manifest.katas)
    copy_if_changed(trusted / kata.test_file(), tree / kata.test_file());
  fs::create_directories(tree / "solutions");

  // One small course per variant: the manifest with that kata alone, its trusted test, the
  // version of its files, and an empty solutions/ (the learner's compile looks there, finds
  // nothing).
  const nlohmann::json course = nlohmann::json::parse(read_file(trusted / "curriculum.json"));
  std::string variants_cmake =
      "# Written by the tutor: one course per version of a kata's files (workspace.hpp).\n";
  for (const auto& plan : plans) {
    for (const auto& kata : manifest.katas) {
      const auto found = plan.files.find(kata.id);
      if (found == plan.files.end()) continue;
      const std::string k = key(kata.id, found->second);
      if (prefix_of_.count(k)) continue;
      const std::string prefix = "v" + k.substr(k.find('-') + 1) + ".";
      prefix_of_[k] = prefix;
      const fs::path root = work_dir / "variants" / k;
      nlohmann::json mini = course;
      mini["katas"] = nlohmann::json::array();
      for (const auto& row : course.at("katas"))
        if (row.value("id", "") == kata.id) mini["katas"].push_back(row);
      fs::create_directories(root / "solutions");
      const std::string mini_text = mini.dump(2) + "\n";
      if (read_file(root / "curriculum.json") != mini_text)
        std::ofstream(root / "curriculum.json") << mini_text;
      copy_if_changed(trusted / kata.test_file(), root / kata.test_file());
      for (const auto& [name, text] : found->second) {
        const fs::path file = root / "katas" / kata.dir / name;
        if (read_file(file) == text && fs::exists(file)) continue;
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
      }
      variants_cmake += fmt::format("add_course(\"{}/curriculum.json\" \"{}\" \"{}\")\n",
                                    root.string(), root.string(), prefix);
    }
  }
  if (read_file(work_dir / "variants.cmake") != variants_cmake)
    std::ofstream(work_dir / "variants.cmake") << variants_cmake;

  // Configure once; later runs reuse the build folder (CMake re-runs itself when
  // variants.cmake changes).
  if (!fs::exists(build_dir_ / "CMakeCache.txt")) {
    RunRequest configure;
    configure.argv = {TUTOR_CMAKE_COMMAND,
                      "-S",
                      tree.string(),
                      "-B",
                      build_dir_.string(),
                      "-DKATAS_ONLY=ON",
                      "-DKATA_VARIANTS_FILE=" + (work_dir / "variants.cmake").string(),
                      "-DCMAKE_CXX_COMPILER=" TUTOR_CXX_COMPILER};
    if (fs::exists(TUTOR_BUILD_DIR "/build.ninja")) {
      configure.argv.push_back("-G");
      configure.argv.push_back("Ninja");
    }
    configure.timeout = std::chrono::minutes(5);
    RunResult r = run_command(configure);
    if (!r.ok())
      throw TutorError(fmt::format("could not configure the grading build {}:\n{}",
                                   build_dir_.string(), r.output),
                       "Does `make check` work in the trusted checkout?");
  }
  // Everything at once, past errors: a variant that does not compile is built again alone when
  // it is graded, which gives its own first error.
  std::vector<std::string> goals;
  for (const auto& [k, prefix] : prefix_of_) goals.push_back(prefix + "katas.all");
  build_targets(build_dir_, goals, /*keep_going=*/true);
}

std::vector<KataResult> SharedBuild::grade(const LearnerPlan& plan,
                                           const std::vector<const Kata*>& katas,
                                           const fs::path& state_dir) const {
  std::vector<KataResult> results(katas.size());
  parallel_for(katas.size(), 4, [&](std::size_t i) {
    const Kata& kata = *katas[i];
    const auto files = plan.files.find(kata.id);
    const std::string k = key(kata.id, files->second);
    Paths paths{work_dir_ / "variants" / k, build_dir_, state_dir, prefix_of_.at(k)};
    KataResult r = grade_kata(kata, paths, GradeOptions{});
    const auto flags = plan.kata_flags.find(kata.id);
    if (flags != plan.kata_flags.end()) {
      std::set<std::string> seen(r.flags.begin(), r.flags.end());
      for (const auto& f : flags->second)
        if (seen.insert(f).second) r.flags.push_back(f);
    }
    results[i] = std::move(r);
  });
  return results;
}

}  // namespace tutor
