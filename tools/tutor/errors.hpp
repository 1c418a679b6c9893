// One error style for the whole tutor: what went wrong and what to do about it.
//
// Every failure the tutor can name (a missing manifest, an unknown kata, a file it cannot
// write) is thrown as a TutorError and printed by main() as one line, "tutor: <problem>
// <what to do>", with exit code 2. Nothing fails silently.
#pragma once

#include <stdexcept>
#include <string>

namespace tutor {

class TutorError : public std::runtime_error {
 public:
  TutorError(const std::string& problem, const std::string& remedy = "")
      : std::runtime_error(remedy.empty() ? problem : problem + ". " + remedy) {}
};

}  // namespace tutor
