// `make stress [KATA=01a] [REPEAT=100]`: hunts flaky tests (see selfcheck.hpp). A contributor
// runs it at 100 before submitting a kata (CONTRIBUTING.md).
#include "../commands.hpp"
#include "../jobs.hpp"
#include "../selfcheck.hpp"

namespace tutor {

void add_stress_command(CLI::App& app, Context& context) {
  auto options = std::make_shared<StressOptions>();
  auto jobs = std::make_shared<int>(0);
  auto* command =
      app.add_subcommand("stress", "repeat the solutions' tests shuffled, to find flaky tests");
  command->add_option("--kata", options->katas, "one kata id, or several separated by commas");
  command->add_option("--repeat", options->repeat, "runs per kata (default 100)");
  command->add_option("--jobs", *jobs, "test processes at once (default: twice the cores)");
  command->callback([&context, options, jobs] {
    if (*jobs > 0) JobSlots::set_size(*jobs);
    context.exit_code = run_stress(context.manifest(), context.paths, *options);
  });
}

}  // namespace tutor
