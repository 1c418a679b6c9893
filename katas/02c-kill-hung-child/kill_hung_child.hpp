// Kata 02c · Give children a deadline: SIGTERM, then SIGKILL, then reap
// Lesson: lessons/02-processes/README.md#killing-a-child
//
// Run each body in a child process, all at the same time, and wait for them, but give them a
// deadline: a child still running when `timeout` has passed is asked to stop (SIGTERM), given
// `grace` to clean up and leave, then killed (SIGKILL). Reap every child and report how each
// ended, and whether it had to be stopped. A thread can't be killed from outside; a process can.
//
// Grade it: make test KATA=02c        Stuck? make hint KATA=02c
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <system_error>
#include <vector>

namespace kata {

// How one child ended.
struct ChildOutcome {
  pid_t pid = -1;
  bool exited = false;     // ended normally; see exit_code
  int exit_code = -1;      // 0..255, meaningful when exited
  int signal = 0;          // the signal that ended it, meaningful when !exited
  bool timed_out = false;  // it was still running at the deadline and had to be stopped
};

namespace detail {

// Runs in the child: the body's value is the exit code; an exception gives code 1.
inline int run_body(const std::function<int()>& body) noexcept {
  try {
    return body();
  } catch (...) {
    return 1;
  }
}

// Reads a status word from waitpid() into the outcome.
inline void record(ChildOutcome& child, int status) {
  if (WIFEXITED(status)) {
    child.exited = true;
    child.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.signal = WTERMSIG(status);
  }
}

}  // namespace detail

inline std::vector<ChildOutcome> run_with_deadline(
    const std::vector<std::function<int()>>& bodies,
    [[maybe_unused]] std::chrono::milliseconds timeout,
    [[maybe_unused]] std::chrono::milliseconds grace) {
  std::vector<ChildOutcome> outcomes;
  for (const auto& body : bodies) {
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) _exit(detail::run_body(body));
    outcomes.push_back(ChildOutcome{pid});
  }
  for (auto& child : outcomes) {
    int status = 0;
    // TODO: this waits as long as the child takes, forever for one that hangs. Don't block
    // here: poll (waitpid with WNOHANG) until the deadline, then SIGTERM, then after the
    // grace period SIGKILL, and still reap every child.
    while (waitpid(child.pid, &status, 0) < 0) {
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    detail::record(child, status);
  }
  return outcomes;
}

}  // namespace kata
