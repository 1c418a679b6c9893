// What the tutor remembers between runs, in <state folder>/tutor-state.json: how many hints of
// each kata were shown, and each kata's last verdict (for `make list` and `make start`).
//
// It is a convenience, never a source of errors: a missing, corrupt or stale file is simply
// started afresh, and a file that cannot be written is a one-line warning.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace tutor {

class State {
 public:
  explicit State(std::filesystem::path file);

  int hints_shown(const std::string& kata) const;
  void set_hints_shown(const std::string& kata, int count);
  // "PASS", "FAIL", ... as last graded; "" if never.
  std::string last_status(const std::string& kata) const;
  void set_last_status(const std::string& kata, const std::string& status);

  void save() const;  // atomically: a temporary file renamed over the old one

 private:
  std::filesystem::path file_;
  std::map<std::string, int> hints_;
  std::map<std::string, std::string> status_;
};

}  // namespace tutor
