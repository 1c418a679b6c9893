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

// Blocks until the child has ended, reaps it (its zombie disappears) and records how it ended.
inline void wait_for(ChildOutcome& child) {
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  // The status word packs "how" and "what": decode it, never compare it raw.
  if (WIFEXITED(status)) {
    child.exited = true;
    child.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.exited = false;
    child.signal = WTERMSIG(status);
  }
}

}  // namespace detail

inline std::vector<ChildOutcome> fork_join(const std::vector<std::function<int()>>& bodies) {
  std::vector<ChildOutcome> outcomes;
  outcomes.reserve(bodies.size());
  // Start every child before waiting for any, so that they all run at the same time.
  for (const auto& body : bodies) {
    pid_t pid = fork();
    if (pid < 0) {
      // Out of processes: still reap the children already started, then report.
      const int error = errno;
      for (auto& started : outcomes) detail::wait_for(started);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      // Here we are the child. _exit() ends the process at once: no atexit handlers, no
      // flushing of the stdio buffers that are copies of the parent's unwritten data.
      _exit(detail::run_body(body));
    }
    outcomes.push_back(ChildOutcome{pid});
  }
  // Like Process.join() on each: wait for every child, which also reaps it.
  for (auto& child : outcomes) detail::wait_for(child);
  return outcomes;
}

}  // namespace kata
