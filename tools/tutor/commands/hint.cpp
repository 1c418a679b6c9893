// `make hint KATA=01a`: the next hint of a kata, gentle first, more explicit each time asked.
#include <fmt/format.h>

#include "../commands.hpp"
#include "../console.hpp"
#include "../state.hpp"

namespace tutor {

void add_hint_command(CLI::App& app, Context& context) {
  auto id = std::make_shared<std::string>();
  auto* command = app.add_subcommand("hint", "the next hint for a kata");
  command->add_option("kata", *id, "the kata's id");
  command->callback([&context, id] {
    const Kata& kata = select_one_kata(context.manifest(), *id, "hint");
    State state(context.paths.state_dir / "tutor-state.json");
    const int count = static_cast<int>(kata.hints.size());
    const int shown = std::min(state.hints_shown(kata.id) + 1, count);
    state.set_hints_shown(kata.id, shown);
    state.save();
    fmt::print("{}\n", bold(fmt::format("Kata {} · {}", kata.id, kata.title)));
    for (int i = 0; i < shown; ++i)
      fmt::print("\nHint {} of {}:\n{}\n", i + 1, count, wrap(kata.hints[i], 96, "  "));
    if (shown < count)
      fmt::print("\n(Run `make hint KATA={}` again for a more explicit hint.)\n", kata.id);
    else
      fmt::print(
          "\n(That was the last hint. `make solution KATA={}` shows the solution once the kata "
          "passes, or with FORCE=1.)\n",
          kata.id);
  });
}

}  // namespace tutor
