// tutor: the command behind `make start`, `make test`, `make check`, `make hint`, `make reset`.
// Each subcommand lives in its own function below; the real work is in the other files.
#include <fmt/color.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "grader.hpp"
#include "manifest.hpp"
#include "report.hpp"
#include "selfcheck.hpp"
#include "subprocess.hpp"

namespace fs = std::filesystem;
using namespace tutor;

namespace {

std::vector<const Kata*> select_katas(const Manifest& manifest, const std::string& wanted) {
  std::vector<const Kata*> katas;
  if (wanted.empty()) {
    for (const auto& k : manifest.katas) katas.push_back(&k);
    return katas;
  }
  std::stringstream list(wanted);
  std::string id;
  while (std::getline(list, id, ',')) {
    const Kata* kata = manifest.find_kata(id);
    if (kata == nullptr) {
      std::string known;
      for (const auto& k : manifest.katas) known += " " + k.id;
      throw std::runtime_error(fmt::format("there is no kata '{}'. Katas:{}", id, known));
    }
    katas.push_back(kata);
  }
  return katas;
}

std::string bold(const std::string& text) {
  return use_colour(stdout) ? fmt::format(fmt::emphasis::bold, "{}", text) : text;
}

// ---- make test ---------------------------------------------------------------------------
int grade(const Manifest& manifest, const Paths& paths, const std::string& only) {
  auto katas = select_katas(manifest, only);
  fmt::print("Grading {} kata(s) in katas/: each test alone, with its time limit{}.\n\n",
             katas.size(), " (race katas also under ThreadSanitizer)");
  Table table(stdout);
  table.header();
  GradeOptions options;
  auto results = grade_katas(katas, manifest.katas.size(), paths, options,
                             [&](const KataResult& k) { table.row(k); });
  const fs::path json_file = paths.build_dir / "results.json";
  const fs::path junit_file = paths.build_dir / "junit.xml";
  write_file(json_file, results_json(results, "katas"));
  write_file(junit_file, junit_xml(results));
  table.details(results);
  fmt::print("\nReports: {} and {}\n", json_file.string(), junit_file.string());
  table.totals(results);
  Totals t = totals_of(results);
  return t.tests_failed == 0 ? 0 : 1;
}

// ---- make hint -----------------------------------------------------------------------------
fs::path state_file(const Paths& paths) { return paths.build_dir / "tutor-state.json"; }

nlohmann::json load_state(const Paths& paths) {
  std::ifstream in(state_file(paths));
  if (!in) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(in);
  } catch (...) {
    return nlohmann::json::object();
  }
}

int hint(const Manifest& manifest, const Paths& paths, const std::string& id) {
  auto katas = select_katas(manifest, id);
  const Kata& kata = *katas.front();
  auto state = load_state(paths);
  if (!state.contains("hints_shown")) state["hints_shown"] = nlohmann::json::object();
  int shown = state["hints_shown"].value(kata.id, 0);
  shown = std::min<int>(shown + 1, static_cast<int>(kata.hints.size()));
  state["hints_shown"][kata.id] = shown;
  write_file(state_file(paths), state.dump(2));
  fmt::print("{}\n", bold(fmt::format("Kata {} · {}", kata.id, kata.title)));
  for (int i = 0; i < shown; ++i)
    fmt::print("\nHint {} of {}: {}\n", i + 1, kata.hints.size(), kata.hints[i]);
  if (shown < static_cast<int>(kata.hints.size()))
    fmt::print("\n(Run `make hint KATA={}` again for a more explicit hint.)\n", kata.id);
  else
    fmt::print(
        "\n(That was the last hint. `make solution KATA={}` shows the solution once the "
        "kata passes, or with FORCE=1.)\n",
        kata.id);
  return 0;
}

// Word-wraps text to `width` columns, each line starting with `indent`.
std::string wrap(const std::string& text, std::size_t width, const std::string& indent) {
  std::string out, line;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + line;
  return out;
}

// ---- make start ----------------------------------------------------------------------------
int start(const Manifest& manifest, const Paths& paths) {
  if (!manifest.welcome.empty()) fmt::print("{}\n\n", manifest.welcome);
  std::vector<const Kata*> all;
  for (const auto& k : manifest.katas) all.push_back(&k);
  fmt::print("Building the katas...\n");
  std::fflush(stdout);
  GradeOptions options;
  options.stop_at_first_failure = true;
  // Build everything once (in parallel), then grade in course order up to the first kata that
  // does not pass yet: that is where the learner is.
  prebuild(Variant::Kata, all, paths, all.size());
  int done = 0;
  for (const Kata* kata : all) {
    KataResult r = grade_kata(*kata, paths, options);
    if (r.status == Status::Pass) {
      fmt::print("  done  {} {}\n", kata->id, kata->title);
      ++done;
      continue;
    }
    const Lesson* lesson = manifest.find_lesson(kata->lesson);
    if (done == 0)
      fmt::print("\nNo kata passes yet. Start here:\n\n");
    else
      fmt::print("\nThe first {} of {} katas pass. Next:\n\n", done, all.size());
    fmt::print("  {}\n", bold(fmt::format("Kata {} · {}", kata->id, kata->title)));
    fmt::print("  Read   lessons/{}/README.md ({})\n", lesson->dir, lesson->title);
    for (const auto& file : kata->files) fmt::print("  Edit   katas/{}/{}\n", kata->dir, file);
    for (const auto& t : r.tests) {
      if (t.status == Status::Pass || r.status == Status::BuildError) continue;
      fmt::print("  Now    {} in {}\n{}\n", status_name(t.status), t.name,
                 wrap(one_line(t.message, 600), 86, "         "));
      break;
    }
    if (r.status == Status::BuildError)
      fmt::print("  Now    BUILD ERROR\n{}\n", wrap(r.message, 86, "         "));
    fmt::print("\n  make test KATA={}    grade it again after each edit\n", kata->id);
    fmt::print("  make hint KATA={}    a hint (ask again for a more explicit one)\n", kata->id);
    fmt::print("  make reset KATA={}   start this kata over (your file is backed up)\n", kata->id);
    fmt::print("  make test             grade everything (table, results.json, JUnit XML)\n");
    return 0;
  }
  fmt::print("\nAll {} katas pass. {}\n", all.size(), manifest.farewell);
  return 0;
}

// ---- make reset ----------------------------------------------------------------------------
std::string find_program(const std::string& name) {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':'))
    if (access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

RunResult git(const Paths& paths, std::vector<std::string> args) {
  RunRequest request;
  request.argv = {find_program("git"), "-C", paths.source_dir.string()};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.timeout = std::chrono::seconds(30);
  return run_command(request);
}

int reset(const Manifest& manifest, const Paths& paths, const std::string& id) {
  const Kata& kata = *select_katas(manifest, id).front();
  if (find_program("git").empty())
    throw std::runtime_error("reset needs git, which is not installed");
  // The pristine starter is the one in the commit you cloned: the upstream branch if there is
  // one, else HEAD. Your current files are copied to build/backups/ first.
  std::string ref = "HEAD";
  if (RunResult up = git(paths, {"rev-parse", "--verify", "-q", "@{upstream}"}); up.ok())
    ref = "@{upstream}";
  const fs::path backup = paths.build_dir / "backups" /
                          fmt::format("{}-{}", kata.dir, static_cast<long>(std::time(nullptr)));
  fs::create_directories(backup);
  for (const auto& file : kata.files) {
    const fs::path current = paths.source_dir / "katas" / kata.dir / file;
    if (fs::exists(current)) fs::copy_file(current, backup / file);
  }
  RunResult r = git(paths, {"checkout", ref, "--", "katas/" + kata.dir});
  if (!r.ok()) throw std::runtime_error("git checkout failed: " + r.output);
  fmt::print("Kata {} is back to its starter (as in git {}). Your version was saved in {}/\n",
             kata.id, ref, backup.string());
  return 0;
}

// ---- make solution -------------------------------------------------------------------------
int solution(const Manifest& manifest, const Paths& paths, const std::string& id, bool force) {
  const Kata& kata = *select_katas(manifest, id).front();
  if (!force) {
    KataResult r = grade_kata(kata, paths, GradeOptions{});
    if (r.status != Status::Pass) {
      fmt::print(
          "Kata {} does not pass yet ({}), so its solution stays hidden: working it out is the "
          "point. Try `make hint KATA={}`; if you really want it, `make solution KATA={} "
          "FORCE=1`.\n",
          kata.id, status_name(r.status), kata.id, kata.id);
      return 0;  // a refusal, not an error
    }
  }
  for (const auto& file : kata.files) {
    const fs::path path = paths.source_dir / "solutions" / kata.dir / file;
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    fmt::print("{}\n\n{}\n", bold("solutions/" + kata.dir + "/" + file), text.str());
  }
  return 0;
}

// ---- make list -----------------------------------------------------------------------------
int list(const Manifest& manifest) {
  std::string lesson_id;
  for (const auto& kata : manifest.katas) {
    if (kata.lesson != lesson_id) {
      lesson_id = kata.lesson;
      const Lesson* lesson = manifest.find_lesson(lesson_id);
      fmt::print("\n{}\n", bold(fmt::format("Lesson {} · {}  (lessons/{}/)", lesson->id,
                                            lesson->title, lesson->dir)));
    }
    fmt::print("  {}  {:<62} katas/{}/{}{}\n", kata.id, kata.title, kata.dir, kata.files.front(),
               kata.tsan ? "  [TSan]" : "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tutor: lessons and graded katas on threads and processes in C++"};
  app.require_subcommand(1);
  Paths paths{TUTOR_SOURCE_DIR, TUTOR_BUILD_DIR};
  std::string kata_id;
  bool force = false;
  CheckOptions check_options;

  auto* grade_cmd = app.add_subcommand("grade", "grade the katas (make test)");
  grade_cmd->add_option("--kata", kata_id, "one kata id, or several separated by commas");
  auto* check_cmd = app.add_subcommand("check", "the project's own test suite (make check)");
  check_cmd->add_option("--kata", check_options.only_kata, "check one kata only");
  check_cmd->add_option("--repeat", check_options.repeat, "repetitions of the shuffled runs");
  auto* start_cmd = app.add_subcommand("start", "show where you are and what to do next");
  auto* hint_cmd = app.add_subcommand("hint", "the next hint for a kata");
  hint_cmd->add_option("kata", kata_id)->required();
  auto* reset_cmd = app.add_subcommand("reset", "restore a kata's starter");
  reset_cmd->add_option("kata", kata_id)->required();
  auto* solution_cmd = app.add_subcommand("solution", "show a kata's solution once it passes");
  solution_cmd->add_option("kata", kata_id)->required();
  solution_cmd->add_flag("--force", force, "show it even if the kata does not pass yet");
  auto* list_cmd = app.add_subcommand("list", "list lessons and katas");
  CLI11_PARSE(app, argc, argv);

  try {
    Manifest manifest = load_manifest(paths.source_dir / "curriculum.json");
    if (*grade_cmd) return grade(manifest, paths, kata_id);
    if (*check_cmd) return run_self_check(manifest, paths, check_options);
    if (*start_cmd) return start(manifest, paths);
    if (*hint_cmd) return hint(manifest, paths, kata_id);
    if (*reset_cmd) return reset(manifest, paths, kata_id);
    if (*solution_cmd) return solution(manifest, paths, kata_id, force);
    if (*list_cmd) return list(manifest);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tutor: {}\n", e.what());
    return 2;
  }
  return 0;
}
