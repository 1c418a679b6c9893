#include "manifest.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tutor {

using nlohmann::json;

namespace {

std::string where(const json& kata) {
  if (kata.is_object() && kata.contains("id") && kata["id"].is_string())
    return fmt::format("kata '{}'", kata["id"].get<std::string>());
  return "a kata without an id";
}

template <typename T>
T required(const json& object, const char* key, const std::string& context) {
  if (!object.contains(key))
    throw std::runtime_error(fmt::format("curriculum.json: {} has no \"{}\"", context, key));
  try {
    return object.at(key).get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(
        fmt::format("curriculum.json: \"{}\" of {} has the wrong type", key, context));
  }
}

template <typename T>
T optional_field(const json& object, const char* key, T fallback, const std::string& context) {
  if (!object.contains(key)) return fallback;
  return required<T>(object, key, context);
}

}  // namespace

const Kata* Manifest::find_kata(const std::string& id_or_dir) const {
  for (const auto& kata : katas)
    if (kata.id == id_or_dir || kata.dir == id_or_dir) return &kata;
  return nullptr;
}

const Lesson* Manifest::find_lesson(const std::string& id) const {
  for (const auto& lesson : lessons)
    if (lesson.id == id) return &lesson;
  return nullptr;
}

std::string Kata::tsan_blind_spot() const {
  if (mpi_ranks > 0) return "MPI";
  for (const std::string& target : link) {
    if (target.rfind("TBB::", 0) == 0) return "oneTBB";
    if (target.rfind("OpenMP::", 0) == 0) return "OpenMP";
    if (target.rfind("MPI::", 0) == 0) return "MPI";
  }
  return "";
}

Manifest parse_manifest(const std::string& json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("curriculum.json is not valid JSON: {}", e.what()));
  }
  Manifest m;
  m.welcome = optional_field<std::string>(root, "welcome", "", "the manifest");
  m.farewell = optional_field<std::string>(root, "farewell", "", "the manifest");
  for (const auto& l : required<json>(root, "lessons", "the manifest")) {
    Lesson lesson;
    lesson.id = required<std::string>(l, "id", "a lesson");
    lesson.dir = required<std::string>(l, "dir", "lesson " + lesson.id);
    lesson.title = required<std::string>(l, "title", "lesson " + lesson.id);
    m.lessons.push_back(lesson);
  }
  // A kata row states only what differs: its fields fall back on its lesson's
  // "kata_defaults", then on the manifest's "kata_defaults", then on the values below.
  const json course_defaults =
      optional_field<json>(root, "kata_defaults", json::object(), "the manifest");
  std::map<std::string, json> lesson_defaults;
  for (const auto& l : root["lessons"])
    lesson_defaults[l.value("id", "")] =
        optional_field<json>(l, "kata_defaults", json::object(), "lesson " + l.value("id", ""));
  std::set<std::string> ids;
  for (const auto& row : required<json>(root, "katas", "the manifest")) {
    const std::string ctx = where(row);
    if (!row.is_object())
      throw std::runtime_error("curriculum.json: every entry of \"katas\" must be an object");
    json k = course_defaults;
    if (row.contains("lesson") && row["lesson"].is_string())
      if (auto lesson = lesson_defaults.find(row["lesson"].get<std::string>());
          lesson != lesson_defaults.end())
        k.update(lesson->second);
    k.update(row);
    Kata kata;
    kata.id = required<std::string>(k, "id", ctx);
    kata.dir = required<std::string>(k, "dir", ctx);
    kata.lesson = required<std::string>(k, "lesson", ctx);
    kata.title = required<std::string>(k, "title", ctx);
    kata.files = required<std::vector<std::string>>(k, "files", ctx);
    kata.hints = required<std::vector<std::string>>(k, "hints", ctx);
    kata.timeout_seconds = optional_field<int>(k, "timeout", 10, ctx);
    kata.tsan = optional_field<bool>(k, "tsan", false, ctx);
    kata.points = optional_field<int>(k, "points", 10, ctx);
    kata.headline_first = optional_field<std::vector<std::string>>(k, "headline_first", {}, ctx);
    kata.mpi_ranks = optional_field<int>(k, "mpi_ranks", 0, ctx);
    kata.link = optional_field<std::vector<std::string>>(k, "link", {}, ctx);
    kata.limits = kKataDefaultLimits;
    if (k.contains("limits") && !k["limits"].is_null()) {
      const json& lim = k["limits"];
      const Limits d = kKataDefaultLimits;
      kata.limits.processes = optional_field<int>(lim, "processes", d.processes, ctx + " limits");
      kata.limits.cpu_seconds =
          optional_field<int>(lim, "cpu_seconds", d.cpu_seconds, ctx + " limits");
      kata.limits.memory_mb = optional_field<int>(lim, "memory_mb", d.memory_mb, ctx + " limits");
      kata.limits.file_mb = optional_field<int>(lim, "file_mb", d.file_mb, ctx + " limits");
    }
    if (!ids.insert(kata.id).second)
      throw std::runtime_error(fmt::format("curriculum.json: kata id '{}' appears twice", kata.id));
    if (kata.dir.rfind(kata.id + "-", 0) != 0)
      throw std::runtime_error(
          fmt::format("curriculum.json: {}: dir '{}' must start with the id and a dash ('{}-...')",
                      ctx, kata.dir, kata.id));
    if (kata.files.empty())
      throw std::runtime_error(fmt::format("curriculum.json: {} lists no files", ctx));
    if (kata.hints.size() < 2 || kata.hints.size() > 3)
      throw std::runtime_error(
          fmt::format("curriculum.json: {} has {} hints; give 2 or 3, from gentle to explicit", ctx,
                      kata.hints.size()));
    if (kata.timeout_seconds <= 0 || kata.timeout_seconds > 120)
      throw std::runtime_error(
          fmt::format("curriculum.json: {}: timeout must be 1..120 seconds per test", ctx));
    if (kata.mpi_ranks < 0 || kata.mpi_ranks > 16)
      throw std::runtime_error(
          fmt::format("curriculum.json: {}: mpi_ranks must be 1..16 (or absent)", ctx));
    if (kata.tsan && !kata.tsan_blind_spot().empty())
      throw std::runtime_error(fmt::format(
          "curriculum.json: {}: a kata on {} cannot be graded under ThreadSanitizer (Debian's "
          "library is not instrumented, and TSan would report races that are not there); set "
          "\"tsan\": false",
          ctx, kata.tsan_blind_spot()));
    if (m.find_lesson(kata.lesson) == nullptr)
      throw std::runtime_error(fmt::format(
          "curriculum.json: {} names lesson '{}', which is not listed", ctx, kata.lesson));
    m.katas.push_back(kata);
  }
  return m;
}

Manifest load_manifest(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_manifest(text.str());
}

std::vector<std::string> validate_layout(const Manifest& manifest,
                                         const std::filesystem::path& source_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> problems;
  for (const auto& lesson : manifest.lessons) {
    if (!fs::exists(source_dir / "lessons" / lesson.dir / "README.md"))
      problems.push_back(
          fmt::format("lesson {}: lessons/{}/README.md is missing", lesson.id, lesson.dir));
  }
  for (const auto& kata : manifest.katas) {
    for (const auto& file : kata.files) {
      for (const char* side : {"katas", "solutions"}) {
        if (!fs::exists(source_dir / side / kata.dir / file))
          problems.push_back(
              fmt::format("kata {}: {}/{}/{} is missing", kata.id, side, kata.dir, file));
      }
    }
    if (!fs::exists(source_dir / kata.test_file()))
      problems.push_back(fmt::format("kata {}: {} is missing", kata.id, kata.test_file()));
    for (const auto& hint : kata.hints)
      if (hint.empty() || hint == "TODO")
        problems.push_back(fmt::format("kata {}: a hint is still empty (TODO)", kata.id));
  }
  return problems;
}

}  // namespace tutor
