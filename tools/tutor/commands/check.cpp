// `make check [KATA=01a]`: the project's own test suite (see selfcheck.hpp); what CI runs.
#include <unistd.h>

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
  command->add_option("--jobs", *jobs, "test processes at once (default: six per core)");
  command->callback([&context, options, jobs] {
    // Six per core: everything is built by then, and many of the checks' processes wait
    // (deadlines, children, hangs on purpose). The checks of a built tree on 2 cores took 73 s
    // with 8 at once, 61-67 s with 12 and 74-80 s with 16 (more processes starting at once
    // cost more CPU than the waiting they hide).
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    JobSlots::set_size(*jobs > 0 ? *jobs : 6 * static_cast<int>(cores > 0 ? cores : 2));
    context.exit_code = run_self_check(context.manifest(), context.paths, *options);
  });
}

}  // namespace tutor
