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
#include <thread>
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

// One waitpid() on the child; `flags` is 0 (block) or WNOHANG (just look). True once reaped.
inline bool reap(ChildOutcome& child, int flags) {
  int status = 0;
  for (;;) {
    pid_t got = waitpid(child.pid, &status, flags);
    if (got == child.pid) {
      record(child, status);
      return true;
    }
    if (got == 0) return false;  // WNOHANG: still running
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
}

// Reaps whichever children end before `until`; true when none is left running.
inline bool reap_until(std::vector<ChildOutcome>& children, std::vector<bool>& reaped,
                       std::chrono::steady_clock::time_point until) {
  for (;;) {
    bool all_reaped = true;
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (!reaped[i]) reaped[i] = reap(children[i], WNOHANG);
      all_reaped = all_reaped && reaped[i];
    }
    if (all_reaped) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    // Polling every millisecond is simple and cheap enough for a handful of children.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace detail

inline std::vector<ChildOutcome> run_with_deadline(const std::vector<std::function<int()>>& bodies,
                                                   std::chrono::milliseconds timeout,
                                                   std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  std::vector<ChildOutcome> outcomes;
  outcomes.reserve(bodies.size());
  for (const auto& body : bodies) {
    pid_t pid = fork();
    if (pid < 0) {
      // Out of processes: don't leave the started ones running. Kill and reap them, then report.
      const int error = errno;
      for (auto& started : outcomes) kill(started.pid, SIGKILL);
      for (auto& started : outcomes) detail::reap(started, 0);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) _exit(detail::run_body(body));
    outcomes.push_back(ChildOutcome{pid});
  }

  std::vector<bool> reaped(outcomes.size(), false);
  // 1. Let them work until the deadline; return early when they all end before it.
  if (detail::reap_until(outcomes, reaped, Clock::now() + timeout)) return outcomes;

  // 2. Ask the late ones to stop: SIGTERM can be caught, so a child may clean up and leave.
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (reaped[i]) continue;
    outcomes[i].timed_out = true;
    kill(outcomes[i].pid, SIGTERM);
  }
  if (detail::reap_until(outcomes, reaped, Clock::now() + grace)) return outcomes;

  // 3. Insist: SIGKILL cannot be caught or ignored. Then reap; this wait is short, the kernel
  //    ends the process right away.
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!reaped[i]) kill(outcomes[i].pid, SIGKILL);
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!reaped[i]) detail::reap(outcomes[i], 0);
  }
  return outcomes;
}

}  // namespace kata
