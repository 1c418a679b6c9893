// The tutor's subcommands, one file each under commands/. Each add_*_command() adds its
// subcommand with its own options to `app`; when it is chosen, it runs and stores its exit code
// in `context.exit_code`. Errors are TutorErrors; main() prints them as one line.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>

#include "grader.hpp"
#include "manifest.hpp"

namespace tutor {

struct Context {
  Paths paths;
  int exit_code = 0;

  // The course's curriculum.json, read (and checked) on first use.
  const Manifest& manifest();

 private:
  std::optional<Manifest> manifest_;
};

void add_start_command(CLI::App& app, Context& context);
void add_grade_command(CLI::App& app, Context& context);
void add_check_command(CLI::App& app, Context& context);
void add_stress_command(CLI::App& app, Context& context);
void add_hint_command(CLI::App& app, Context& context);
void add_reset_command(CLI::App& app, Context& context);
void add_solution_command(CLI::App& app, Context& context);
void add_list_command(CLI::App& app, Context& context);

}  // namespace tutor
