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
  command->add_option("--jobs", *jobs, "test processes at once (default: four per core)");
  command->callback([&context, options, jobs] {
    // Four per core, not two: everything is built by then, and the checks' processes mostly
    // wait (deadlines, children, hangs on purpose). On 2 cores the katas' checks took 70 s with
    // 8 at once against 85 s with 4; five whole `make check` runs with 8 had no failure.
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    JobSlots::set_size(*jobs > 0 ? *jobs : 4 * static_cast<int>(cores > 0 ? cores : 2));
    context.exit_code = run_self_check(context.manifest(), context.paths, *options);
  });
}

}  // namespace tutor
