// `make check [KATA=01a]`: the project's own test suite (see selfcheck.hpp); what CI runs.
#include "../commands.hpp"
#include "../jobs.hpp"
#include "../selfcheck.hpp"

namespace tutor {

void add_check_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<CheckOptions>();
  auto jobs = std::make_shared<int>(0);
  auto* command = app.add_subcommand("check", "the project's own test suite (make check)");
  command->add_option("--kata", options->only_kata, "check one kata only");
  command->add_option("--runs", options->shuffled_runs,
                      "whole shuffled runs of each solution (default 3)");
  command->add_option("--tsan-runs", options->tsan_runs,
                      "whole shuffled runs under ThreadSanitizer (default 2)");
  command->add_option("--jobs", *jobs, "test processes at once (default: twice the cores)");
  command->callback([&context, options, jobs] {
    if (*jobs > 0) JobSlots::set_size(*jobs);
    context.exit_code = run_self_check(context.manifest(), context.paths, *options);
  });
}

}  // namespace tutor
