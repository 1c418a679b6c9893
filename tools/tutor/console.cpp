#include "console.hpp"

#include <fmt/color.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "errors.hpp"

namespace tutor {

bool use_colour(std::FILE* stream) {
  return std::getenv("NO_COLOR") == nullptr && isatty(fileno(stream)) != 0;
}

std::string bold(const std::string& text) {
  return use_colour(stdout) ? fmt::format(fmt::emphasis::bold, "{}", text) : text;
}

std::string coloured_status(Status status, const std::string& text) {
  if (!use_colour(stdout)) return text;
  switch (status) {
    case Status::Pass:
      return fmt::format(fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold, "{}", text);
    case Status::Fail:
      return fmt::format(fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold, "{}", text);
    default:
      return fmt::format(fmt::fg(fmt::terminal_color::magenta) | fmt::emphasis::bold, "{}", text);
  }
}

std::string wrap(const std::string& text, std::size_t width, const std::string& indent) {
  std::string out, line;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += indent + line;
  return out;
}

std::vector<const Kata*> select_katas(const Manifest& manifest, const std::string& wanted) {
  std::vector<const Kata*> katas;
  if (wanted.empty()) {
    for (const auto& k : manifest.katas) katas.push_back(&k);
    return katas;
  }
  std::stringstream list(wanted);
  std::string id;
  while (std::getline(list, id, ',')) {
    const Kata* kata = manifest.find_kata(id);
    if (kata == nullptr) {
      std::string known;
      for (const auto& k : manifest.katas) known += (known.empty() ? "" : " ") + k.id;
      throw TutorError(fmt::format("there is no kata '{}'", id),
                       fmt::format("Katas: {} (`make list` shows them all)", known));
    }
    katas.push_back(kata);
  }
  return katas;
}

const Kata& select_one_kata(const Manifest& manifest, const std::string& wanted,
                            const std::string& command) {
  if (wanted.empty())
    throw TutorError(fmt::format("`make {}` needs a kata", command),
                     fmt::format("Say which one: make {} KATA=01a", command));
  auto katas = select_katas(manifest, wanted);
  if (katas.size() != 1)
    throw TutorError(fmt::format("`make {}` takes one kata, not {}", command, katas.size()),
                     fmt::format("Say which one: make {} KATA=01a", command));
  return *katas.front();
}

}  // namespace tutor
