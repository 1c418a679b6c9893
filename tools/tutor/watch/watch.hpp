// The watch loop: `make start` on a terminal. It shows the current kata (the first in course
// order that does not pass), grades it again whenever one of its files is saved (the plain
// verdicts first, then ThreadSanitizer's), and answers keys:
//
//   n next kata (once this one passes)   h next hint        o the whole output
//   l list with progress                 r re-run           x reset (asks; keeps a backup)
//   s the solution as a diff (once passed; asks)            d this lesson's demos
//   q quit (also Ctrl-C)                 ↑/↓ j/k PgUp/PgDn scroll a long screen
//
// Quitting, Ctrl-C, SIGTERM or SIGHUP (the terminal closed) stop the running build or tests
// with their process groups, and the terminal is put back as it was.
#pragma once

#include "../grader.hpp"
#include "../manifest.hpp"

namespace tutor::watch {

struct Options {
  bool force_polling = false;  // poll the files even where inotify works
};

// Runs the loop on the terminal of stdin and stdout until the learner quits. Returns the exit
// code (0). A signal that ends it (SIGTERM, SIGHUP, SIGINT from kill) is raised again once the
// build and tests are stopped and the terminal is restored.
int run(const Manifest& manifest, const Paths& paths, const Options& options);

}  // namespace tutor::watch
