#include "state.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "report.hpp"

namespace tutor {

using nlohmann::json;

State::State(std::filesystem::path file) : file_(std::move(file)) {
  std::ifstream in(file_);
  if (!in) return;
  try {
    const json root = json::parse(in);
    const json hints = root.value("hints_shown", json::object());
    const json statuses = root.value("last_status", json::object());
    for (const auto& [kata, count] : hints.items())
      if (count.is_number_integer()) hints_[kata] = count.get<int>();
    for (const auto& [kata, status] : statuses.items())
      if (status.is_string()) status_[kata] = status.get<std::string>();
  } catch (const json::exception&) {
    hints_.clear();  // corrupt: start afresh
    status_.clear();
  }
}

int State::hints_shown(const std::string& kata) const {
  auto found = hints_.find(kata);
  return found == hints_.end() ? 0 : found->second;
}

void State::set_hints_shown(const std::string& kata, int count) { hints_[kata] = count; }

std::string State::last_status(const std::string& kata) const {
  auto found = status_.find(kata);
  return found == status_.end() ? "" : found->second;
}

void State::set_last_status(const std::string& kata, const std::string& status) {
  status_[kata] = status;
}

void State::save() const {
  json root = {{"hints_shown", hints_}, {"last_status", status_}};
  try {
    write_file(file_, root.dump(2) + "\n");
  } catch (const TutorError& e) {
    fmt::print(stderr, "tutor: warning: {} (hints and progress are not saved)\n", e.what());
  }
}

}  // namespace tutor
