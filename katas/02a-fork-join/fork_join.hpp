// Kata 02a · Fork children, wait for every one, report how each ended
// Lesson: lessons/02-processes/README.md#fork-and-wait
//
// Run each body in a child process of its own, all at the same time, the way a Python program
// calls Process(...).start() for each and then join() on each. The number a body returns is its
// child's exit code. Wait for every child and report how it ended: exited with a code, or killed
// by a signal. Leave no zombie behind, and never let a child flush the stdio buffers it inherited.
//
// Grade it: make test KATA=02a        Stuck? make hint KATA=02a
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <system_error>
#include <vector>

namespace kata {

// How one child ended.
struct ChildOutcome {
  pid_t pid = -1;       // the child's process id, as fork() returned it to the parent
  bool exited = false;  // true: it ended normally (returned or called _exit); see exit_code
  int exit_code = -1;   // 0..255, meaningful when exited
  int signal = 0;       // the signal that ended it (e.g. SIGABRT), meaningful when !exited
};

namespace detail {

// Runs in the child. The body's value becomes the exit code. An exception must never climb
// back up into the caller's code: the child would carry on as a second copy of the parent.
inline int run_body(const std::function<int()>& body) noexcept {
  try {
    return body();
  } catch (...) {
    return 1;
  }
}

}  // namespace detail

inline std::vector<ChildOutcome> fork_join(const std::vector<std::function<int()>>& bodies) {
  std::vector<ChildOutcome> outcomes;
  // Start every child before waiting for any, so that they all run at the same time.
  for (const auto& body : bodies) {
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      // Here we are the child. Leave with the body's result as the exit code.
      // TODO: std::exit() also flushes every stdio buffer the child inherited from the parent.
      std::exit(detail::run_body(body));
    }
    outcomes.push_back(ChildOutcome{pid});
  }
  // TODO: like Process.join(): wait for each child with waitpid() and fill in how it ended
  // (WIFEXITED / WEXITSTATUS, WIFSIGNALED / WTERMSIG). A child nobody waits for stays a zombie.
  return outcomes;
}

}  // namespace kata
