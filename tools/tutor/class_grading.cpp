#include "class_grading.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "console.hpp"
#include "errors.hpp"
#include "jobs.hpp"
#include "report.hpp"
#include "workspace.hpp"

namespace tutor {

namespace fs = std::filesystem;
using nlohmann::json;

bool LearnerResult::flagged() const {
  if (!flags.empty()) return true;
  return std::any_of(katas.begin(), katas.end(), [](const auto& k) { return !k.flags.empty(); });
}

double LearnerResult::points() const {
  double sum = 0;
  for (const auto& k : katas) sum += k.points;
  return sum;
}

namespace {

const KataResult* find_kata(const LearnerResult& learner, const std::string& id) {
  for (const auto& k : learner.katas)
    if (k.id == id) return &k;
  return nullptr;
}

std::string points_cell(const LearnerResult& learner, const Kata& kata) {
  const KataResult* k = find_kata(learner, kata.id);
  if (k == nullptr) return "-";
  const double p = std::round(k->points * 10) / 10;
  return p == std::floor(p) ? fmt::format("{:.0f}", p) : fmt::format("{:.1f}", p);
}

int possible(const std::vector<const Kata*>& katas) {
  int sum = 0;
  for (const Kata* k : katas) sum += k->points;
  return sum;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string class_table(const std::vector<LearnerResult>& learners,
                        const std::vector<const Kata*>& katas) {
  std::size_t width = 7;
  for (const auto& l : learners) width = std::max(width, l.name.size());
  std::string out = fmt::format("{:<{}}", "learner", width);
  for (const Kata* k : katas) out += fmt::format(" {:>4}", k->id);
  out += fmt::format(" {:>8}  {}\n", "points", "notes");
  for (const auto& l : learners) {
    out += fmt::format("{:<{}}", l.name, width);
    for (const Kata* k : katas) out += fmt::format(" {:>4}", points_cell(l, *k));
    const double total = std::round(l.points() * 10) / 10;
    out += fmt::format(" {:>8}  ", fmt::format("{}/{}", total, possible(katas)));
    if (!l.error.empty())
      out += "NOT GRADED: " + one_line(l.error, 80);
    else if (l.flagged())
      out += "FLAGGED";
    out += "\n";
  }
  return out;
}

std::string class_csv(const std::vector<LearnerResult>& learners,
                      const std::vector<const Kata*>& katas) {
  std::string out = "learner";
  for (const Kata* k : katas) out += "," + k->id;
  out += ",points,points_possible,flagged,error\n";
  for (const auto& l : learners) {
    out += csv_field(l.name);
    for (const Kata* k : katas) out += "," + points_cell(l, *k);
    out += fmt::format(",{:.3f},{},{},{}\n", l.points(), possible(katas), l.flagged() ? 1 : 0,
                       csv_field(l.error));
  }
  return out;
}

std::string class_json(const std::vector<LearnerResult>& learners,
                       const std::vector<const Kata*>& katas) {
  json root;
  root["schema"] = "concurrency-katas/class/1";
  root["katas"] = json::array();
  for (const Kata* k : katas)
    root["katas"].push_back({{"id", k->id}, {"points_possible", k->points}});
  root["learners"] = json::array();
  for (const auto& l : learners) {
    json learner = {{"name", l.name},
                    {"points", std::round(l.points() * 1000) / 1000},
                    {"points_possible", possible(katas)},
                    {"flagged", l.flagged()},
                    {"flags", l.flags},
                    {"error", l.error},
                    {"results", l.results.string()},
                    {"katas", json::object()}};
    for (const auto& k : l.katas)
      learner["katas"][k.id] = {{"status", status_name(k.status)},
                                {"points", std::round(k.points * 1000) / 1000},
                                {"tests_passed", k.passed()},
                                {"tests", k.tests.size()},
                                {"flags", k.flags}};
    root["learners"].push_back(learner);
  }
  return root.dump(2) + "\n";
}

std::vector<LearnerResult> grade_class(const ClassOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(options.folder, ec))
    throw TutorError(fmt::format("{} is not a folder", options.folder.string()),
                     "Give --class a folder that holds one checkout per learner.");
  const Manifest manifest = load_manifest(options.trusted / "curriculum.json");
  const std::vector<const Kata*> katas = select_katas(manifest, options.only_katas);
  std::vector<fs::path> checkouts;
  for (const auto& entry : fs::directory_iterator(options.folder, ec))
    if (entry.is_directory() && entry.path().filename().string().front() != '.')
      checkouts.push_back(entry.path());
  std::sort(checkouts.begin(), checkouts.end());
  if (checkouts.empty())
    throw TutorError(fmt::format("{} holds no learner folders", options.folder.string()),
                     "Put one checkout of the course per learner in it (e.g. cloned by name).");

  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  // Read every checkout first: a folder that is not a checkout is a row of its own.
  std::vector<LearnerResult> learners(checkouts.size());
  std::vector<LearnerPlan> plans;
  std::vector<std::size_t> planned;  // learners[planned[j]] has plans[j]
  for (std::size_t i = 0; i < checkouts.size(); ++i) {
    learners[i].name = checkouts[i].filename().string();
    try {
      plans.push_back(plan_learner(options.trusted, manifest, checkouts[i], learners[i].name));
      planned.push_back(i);
      learners[i].flags = plans.back().flags;
    } catch (const std::exception& e) {
      learners[i].error = e.what();
    }
  }
  fmt::print("Grading {} learners against the trusted tests of {}.\n", checkouts.size(),
             options.trusted.string());
  std::fflush(stdout);
  const SharedBuild build(options.trusted, manifest, plans, options.work_dir);
  fmt::print(
      "Built {} versions of the katas' files in {:.0f} s (each version once, however many "
      "learners handed it in); now every learner's tests, each in a sandbox.\n\n",
      build.variants(), seconds());
  std::fflush(stdout);

  // As many learners at once as there are cores: their tests mostly wait, and the test
  // processes of all learners share the tutor's job slots.
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  std::mutex print_mutex;
  parallel_for(plans.size(), static_cast<std::size_t>(cores), [&](std::size_t j) {
    LearnerResult& l = learners[planned[j]];
    const fs::path work = options.work_dir / "learners" / l.name;
    try {
      l.katas = build.grade(plans[j], katas, work);
      l.results = work / "results.json";
      write_file(l.results, results_json(l.katas, "katas"));
    } catch (const std::exception& e) {
      l.error = e.what();
    }
    std::lock_guard lock(print_mutex);
    if (l.error.empty())
      fmt::print("  {}: {:.1f} points{} (done at {:.0f} s)\n", l.name, l.points(),
                 l.flagged() ? ", flagged" : "", seconds());
    std::fflush(stdout);
  });
  for (const auto& l : learners)
    if (!l.error.empty()) fmt::print("  {}: not graded: {}\n", l.name, one_line(l.error, 100));

  fmt::print("\n{}", class_table(learners, katas));
  bool any_flag = false;
  for (const auto& l : learners) {
    std::vector<std::string> all = l.flags;
    for (const auto& k : l.katas)
      for (const auto& f : k.flags) all.push_back(k.id + "  " + f);
    for (const auto& f : all) {
      if (!any_flag) fmt::print("\nFlagged (look before you trust these grades):\n");
      any_flag = true;
      fmt::print("  {}: {}\n", l.name, f);
    }
  }
  write_file(options.work_dir / "class.csv", class_csv(learners, katas));
  write_file(options.work_dir / "class.json", class_json(learners, katas));
  fmt::print("\nReports: {} and {}; each learner's results.json under {}\n",
             (options.work_dir / "class.csv").string(), (options.work_dir / "class.json").string(),
             (options.work_dir / "learners").string());
  std::fflush(stdout);
  return learners;
}

}  // namespace tutor
