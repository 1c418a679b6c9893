// `make start`: on a terminal (stdin and stdout), the watch loop (watch/watch.hpp): the current
// kata, graded again at every save, with keys for hints, the list, reset, the solution, demos.
// Anywhere else (CI, a pipe, an editor's task runner): builds everything (showing progress), then
// prints where the learner is: the first kata in course order that does not pass, its lesson,
// its file, and what fails now; no escape codes, no prompts, exit code 0.
//
// The loop polls the files instead of using inotify with --poll or TUTOR_WATCH=poll (for
// network file systems, whose changes made elsewhere inotify does not see).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "../builder.hpp"
#include "../commands.hpp"
#include "../console.hpp"
#include "../state.hpp"
#include "../watch/watch.hpp"

namespace tutor {

namespace {

// "Building the katas: 12/40 steps" on one line of a terminal, or a line every quarter when
// the output is a file or a pipe.
class BuildProgress {
 public:
  void operator()(int done, int total) {
    if (total <= 0) return;
    if (isatty(fileno(stdout))) {
      fmt::print("\r  building: {}/{} steps   ", done, total);
    } else {
      const int quarter = done * 4 / total;
      if (quarter == last_quarter_) return;
      last_quarter_ = quarter;
      fmt::print("  building: {}/{} steps\n", done, total);
    }
    std::fflush(stdout);
  }

 private:
  int last_quarter_ = -1;
};

int start(Context& context) {
  const Manifest& manifest = context.manifest();
  if (!manifest.welcome.empty()) fmt::print("{}\n\n", wrap(manifest.welcome, 96, ""));
  fmt::print("Building the katas (the first time takes a minute or two)...\n");
  std::fflush(stdout);
  BuildProgress progress;
  build_targets(context.paths.build_dir, {context.paths.target_prefix + "katas.all"},
                /*keep_going=*/true, std::ref(progress));
  if (isatty(fileno(stdout))) fmt::print("\n");

  State state(context.paths.state_dir / "tutor-state.json");
  GradeOptions options;
  int done = 0;
  for (const auto& kata : manifest.katas) {
    KataResult r = grade_kata(kata, context.paths, options);
    state.set_last_status(kata.id, status_name(r.status));
    if (r.status == Status::Pass) {
      fmt::print("  {}  {} {}\n", coloured_status(Status::Pass, "done"), kata.id, kata.title);
      ++done;
      continue;
    }
    state.save();
    const Lesson* lesson = manifest.find_lesson(kata.lesson);
    if (done == 0)
      fmt::print("\nNo kata passes yet. Start here:\n\n");
    else
      fmt::print("\n{} of {} katas pass. Next:\n\n", done, manifest.katas.size());
    fmt::print("  {}\n", bold(fmt::format("Kata {} · {}", kata.id, kata.title)));
    fmt::print("  Read   lessons/{}/README.md ({})\n", lesson->dir, lesson->title);
    for (const auto& file : kata.files) fmt::print("  Edit   katas/{}/{}\n", kata.dir, file);
    if (r.status == Status::BuildError)
      fmt::print("  Now    BUILD ERROR\n{}\n", wrap(r.message, 86, "         "));
    else
      fmt::print("  Now    {}\n{}\n", status_name(r.status),
                 wrap(one_line(r.message, 900), 86, "         "));
    fmt::print("\n  make test KATA={}    grade it again after each edit\n", kata.id);
    fmt::print("  make hint KATA={}    a hint (ask again for a more explicit one)\n", kata.id);
    fmt::print("  make reset KATA={}   start this kata over (your file is backed up)\n", kata.id);
    fmt::print("  make list             every kata and how it stands\n");
    return 0;
  }
  state.save();
  fmt::print("\nAll {} katas pass. {}\n", manifest.katas.size(), manifest.farewell);
  return 0;
}

}  // namespace

struct StartArgs {
  bool poll = false;
  bool summary = false;
};

void add_start_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<StartArgs>();
  auto* command = app.add_subcommand(
      "start", "build, then show where you are; on a terminal, watch your files and re-grade");
  command->add_flag("--poll", args->poll,
                    "watch the files by polling instead of inotify (also: TUTOR_WATCH=poll)");
  command->add_flag("--summary", args->summary, "print where you are and exit, even on a terminal");
  command->callback([&context, args] {
    const char* watch_env = std::getenv("TUTOR_WATCH");
    const bool terminal = isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0;
    if (!terminal || args->summary) {
      context.exit_code = start(context);
      return;
    }
    watch::Options options;
    options.force_polling =
        args->poll || (watch_env != nullptr && std::strcmp(watch_env, "poll") == 0);
    context.exit_code = watch::run(context.manifest(), context.paths, options);
  });
}

}  // namespace tutor
