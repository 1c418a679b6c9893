// `make solution KATA=01a [FORCE=1]`: the reference solution, once the kata passes.
#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "../commands.hpp"
#include "../console.hpp"
#include "../errors.hpp"

namespace tutor {

void add_solution_command(CLI::App& app, Context& context) {
  auto id = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* command = app.add_subcommand("solution", "show a kata's solution once it passes");
  command->add_option("kata", *id, "the kata's id");
  command->add_flag("--force", *force, "show it even if the kata does not pass yet");
  command->callback([&context, id, force] {
    const Kata& kata = select_one_kata(context.manifest(), *id, "solution");
    if (!*force) {
      KataResult r = grade_kata(kata, context.paths, GradeOptions{});
      if (r.status != Status::Pass) {
        fmt::print(
            "Kata {} does not pass yet ({}), so its solution stays hidden: working it out is "
            "the point. Try `make hint KATA={}`; if you really want it, `make solution KATA={} "
            "FORCE=1`.\n",
            kata.id, status_name(r.status), kata.id, kata.id);
        return;  // a refusal, not an error
      }
    }
    for (const auto& file : kata.files) {
      const auto path = context.paths.source_dir / "solutions" / kata.dir / file;
      std::ifstream in(path);
      if (!in) throw TutorError("cannot read " + path.string(), "Is the checkout complete?");
      std::stringstream text;
      text << in.rdbuf();
      fmt::print("{}\n\n{}\n", bold("solutions/" + kata.dir + "/" + file), text.str());
    }
  });
}

}  // namespace tutor
