// Values written out for failure messages: "[3, 8, 1]".
//
// Why: a message that shows what came back ("got [9, 64, 1] for the inputs [3, 8, 1]") lets
// a learner see the mistake without a debugger; every kata test needs that, so it is here once.
#pragma once

#include <sstream>
#include <string>

namespace testkit {

// Any range whose elements can be written to a std::ostream, as "[a, b, c]" ("[]" if empty).
template <typename Range>
std::string to_text(const Range& values) {
  std::ostringstream out;
  out << '[';
  bool first = true;
  for (const auto& value : values) {
    out << (first ? "" : ", ") << value;
    first = false;
  }
  out << ']';
  return out.str();
}

}  // namespace testkit
