// `make list`: every lesson and kata, with each kata's last verdict.
#include <fmt/format.h>

#include <algorithm>

#include "../commands.hpp"
#include "../console.hpp"
#include "../state.hpp"

namespace tutor {

void add_list_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("list", "list lessons and katas with their last verdict");
  command->callback([&context] {
    const Manifest& manifest = context.manifest();
    State state(context.paths.state_dir / "tutor-state.json");
    std::size_t title_width = 0;
    for (const auto& kata : manifest.katas) title_width = std::max(title_width, kata.title.size());
    title_width = std::min<std::size_t>(title_width, 70);
    int passed = 0;
    std::string lesson_id;
    for (const auto& kata : manifest.katas) {
      if (kata.lesson != lesson_id) {
        lesson_id = kata.lesson;
        const Lesson* lesson = manifest.find_lesson(lesson_id);
        fmt::print("\n{}\n", bold(fmt::format("Lesson {} · {}  (lessons/{}/README.md)", lesson->id,
                                              lesson->title, lesson->dir)));
      }
      const std::string status = state.last_status(kata.id);
      passed += status == "PASS" ? 1 : 0;
      std::string shown = fmt::format("{:<11}", status.empty() ? "not graded" : status);
      if (!status.empty())
        shown = coloured_status(status == "PASS" ? Status::Pass : Status::Fail, shown);
      std::string title = kata.title;
      if (title.size() > title_width) title = title.substr(0, title_width - 1) + "…";
      fmt::print("  {}  {}  {:<{}}  katas/{}/{}{}\n", kata.id, shown, title, title_width, kata.dir,
                 kata.files.front(), kata.tsan ? "  [TSan]" : "");
    }
    fmt::print("\n{} of {} katas pass (as last graded by make test or make start).\n", passed,
               manifest.katas.size());
  });
}

}  // namespace tutor
