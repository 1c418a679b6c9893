// `make reset KATA=01a`: puts a kata's starter back, after saving the learner's files.
//
// The pristine starter is the one in the commit the learner cloned: the upstream branch if
// there is one, else HEAD. The learner's current files are copied to <state>/backups/ first.
#include <fmt/format.h>
#include <unistd.h>

#include <ctime>
#include <sstream>

#include "../commands.hpp"
#include "../console.hpp"
#include "../errors.hpp"
#include "../subprocess.hpp"

namespace tutor {

namespace {

std::string find_program(const std::string& name) {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':'))
    if (access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

RunResult git(const std::filesystem::path& repository, const std::string& git_program,
              std::vector<std::string> args) {
  RunRequest request;
  request.argv = {git_program, "-C", repository.string()};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.timeout = std::chrono::seconds(30);
  return run_command(request);
}

}  // namespace

void add_reset_command(CLI::App& app, Context& context) {
  auto id = std::make_shared<std::string>();
  auto* command = app.add_subcommand("reset", "restore a kata's starter");
  command->add_option("kata", *id, "the kata's id");
  command->callback([&context, id] {
    const Kata& kata = select_one_kata(context.manifest(), *id, "reset");
    const std::string git_program = find_program("git");
    if (git_program.empty())
      throw TutorError("`make reset` needs git, which is not installed",
                       "Install it (apt-get install git) or copy the starter by hand");
    const auto& source = context.paths.source_dir;
    if (!git(source, git_program, {"rev-parse", "--git-dir"}).ok())
      throw TutorError(fmt::format("{} is not a git checkout, so there is no pristine starter "
                                   "to go back to",
                                   source.string()),
                       "Clone the repository with git to use `make reset`");
    std::string ref = "HEAD";
    if (git(source, git_program, {"rev-parse", "--verify", "-q", "@{upstream}"}).ok())
      ref = "@{upstream}";
    const auto backup = context.paths.state_dir / "backups" /
                        fmt::format("{}-{}", kata.dir, static_cast<long>(std::time(nullptr)));
    std::error_code ec;
    std::filesystem::create_directories(backup, ec);
    if (ec)
      throw TutorError(fmt::format("cannot make {}: {}", backup.string(), ec.message()),
                       "Your files were not touched");
    for (const auto& file : kata.files) {
      const auto current = source / "katas" / kata.dir / file;
      if (!std::filesystem::exists(current)) continue;
      std::filesystem::copy_file(current, backup / file,
                                 std::filesystem::copy_options::overwrite_existing, ec);
      if (ec)
        throw TutorError(fmt::format("cannot back up {}: {}", current.string(), ec.message()),
                         "Your files were not touched");
    }
    RunResult r = git(source, git_program, {"checkout", ref, "--", "katas/" + kata.dir});
    if (!r.ok())
      throw TutorError("git checkout failed: " + one_line(r.output, 200),
                       "Your files are saved in " + backup.string());
    fmt::print("Kata {} is back to its starter (as in git {}). Your version was saved in {}/\n",
               kata.id, ref, backup.string());
  });
}

}  // namespace tutor
