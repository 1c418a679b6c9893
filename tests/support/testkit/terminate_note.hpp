// Says what a crash means before the program ends: while a TerminateNote lives, std::terminate
// first prints the note's explanation (if it has one for the exception being thrown), then does
// what it did before (the usual "terminate called after throwing ..." and abort).
//
// Why: some mistakes can only end the program. An exception that escapes a thread's function,
// or a worker that uses a member its constructor has not built yet, calls std::terminate on
// another thread, and the test cannot turn that into a failure with a message. It can still
// say, on the last lines the grader shows, what the crash most likely means here.
#pragma once

#include <cstdio>
#include <exception>
#include <string>

namespace testkit {

namespace terminate_note_detail {
using Explain = std::string (*)(std::exception_ptr escaped);
inline Explain explain = nullptr;
inline std::terminate_handler previous = nullptr;

[[noreturn]] inline void on_terminate() {
  if (explain != nullptr) {
    const std::string text = explain(std::current_exception());
    if (!text.empty()) std::fprintf(stderr, "\n%s\n", text.c_str());
    std::fflush(stderr);
  }
  if (previous != nullptr) previous();
  std::abort();
}
}  // namespace terminate_note_detail

// One at a time. `explain` gets the exception that was being thrown when std::terminate was
// called (null if none: e.g. a joinable std::thread was destroyed) and returns the text to
// print first, or "" for none. A plain function: it runs while the program is ending.
class TerminateNote {
 public:
  explicit TerminateNote(terminate_note_detail::Explain explain) {
    terminate_note_detail::explain = explain;
    terminate_note_detail::previous = std::set_terminate(terminate_note_detail::on_terminate);
  }
  ~TerminateNote() {
    std::set_terminate(terminate_note_detail::previous);
    terminate_note_detail::explain = nullptr;
  }
  TerminateNote(const TerminateNote&) = delete;
  TerminateNote& operator=(const TerminateNote&) = delete;
};

// True if `escaped` holds an exception of type E (or derived from it).
template <typename E>
bool holds(std::exception_ptr escaped) {
  if (!escaped) return false;
  try {
    std::rethrow_exception(escaped);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace testkit
