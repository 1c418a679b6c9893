// Small things every command prints with: bold text and colour on a terminal only, word
// wrapping, and choosing katas by id from the command line.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "results.hpp"

namespace tutor {

// Colour only on a terminal (and never when NO_COLOR is set).
bool use_colour(std::FILE* stream);

std::string bold(const std::string& text);
std::string coloured_status(Status status, const std::string& text);

// Word-wraps text to `width` columns, each line starting with `indent`.
std::string wrap(const std::string& text, std::size_t width, const std::string& indent);

// "01a" or "01a,02b" (ids or folder names); empty: every kata. Unknown ids are a TutorError
// that lists the known ones.
std::vector<const Kata*> select_katas(const Manifest& manifest, const std::string& wanted);

// Exactly one kata; `command` names the make target for the error message.
const Kata& select_one_kata(const Manifest& manifest, const std::string& wanted,
                            const std::string& command);

}  // namespace tutor
