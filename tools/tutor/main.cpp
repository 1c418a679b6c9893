// tutor: the program behind `make start`, `make test`, `make check`, `make stress`, `make hint`,
// `make reset`, `make solution` and `make list`. This file only wires the subcommands
// (commands/*.cpp, one file each) and prints errors; the work is in the other files.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "errors.hpp"
#include "manifest.hpp"

#ifndef TUTOR_SOURCE_DIR
#error "TUTOR_SOURCE_DIR must name the course's source folder"
#endif

namespace tutor {

const Manifest& Context::manifest() {
  if (!manifest_) manifest_ = load_manifest(paths.source_dir / "curriculum.json");
  return *manifest_;
}

}  // namespace tutor

int main(int argc, char** argv) {
  using namespace tutor;
  CLI::App app{"tutor: lessons and graded katas on threads and processes in C++"};
  app.require_subcommand(1);
  Context context;
  context.paths = {TUTOR_SOURCE_DIR, TUTOR_BUILD_DIR, TUTOR_BUILD_DIR, ""};
  std::string course, state;
  // Another course (the tutor's own fixture in tests/tutor/course) with its own target names.
  app.add_option("--course", course, "the course's folder (default: this repository)");
  app.add_option("--target-prefix", context.paths.target_prefix,
                 "prefix of the course's build targets");
  app.add_option("--state-dir", state,
                 "where results.json, junit.xml, tutor-state.json and backups go");
  app.parse_complete_callback([&] {
    if (!course.empty()) context.paths.source_dir = course;
    if (!state.empty()) context.paths.state_dir = state;
  });

  add_start_command(app, context);
  add_grade_command(app, context);
  add_check_command(app, context);
  add_stress_command(app, context);
  add_hint_command(app, context);
  add_reset_command(app, context);
  add_solution_command(app, context);
  add_list_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "tutor: {}\n", e.what());
    return 2;
  }
  return context.exit_code;
}
