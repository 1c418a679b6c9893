// Checks that a test left no child processes behind: neither zombies (exited, never reaped
// with waitpid) nor children that are still running.
//
// Why: a parent that forgets waitpid leaks a zombie per child; a parent that forgets to kill a
// hung child leaks a running process. Both are invisible unless somebody looks. The kernel
// keeps every child in /proc until it is reaped, so /proc shows both kinds.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "testkit/eventually.hpp"
#include "testkit/proc_stat.hpp"

namespace testkit {

// A helper process that a sanitizer starts by itself: clang's ThreadSanitizer runs
// llvm-symbolizer as a child to turn addresses into file:line when it prints a report. It is not
// the learner's child and must survive the check (the next report needs it).
inline bool is_sanitizer_helper(const ProcStat& stat) {
  return stat.name == "llvm-symbolizer" || stat.name == "addr2line";
}

struct Child {
  pid_t pid = 0;
  bool zombie = false;
};

// This process's children (from /proc/<pid>/stat's ppid field), sanitizer helpers left out.
inline std::vector<Child> children_of_this_process() {
  std::vector<Child> found;
  const pid_t self = getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const ProcStat stat = read_proc_stat(AT_FDCWD, (entry.path() / "stat").c_str());
    if (stat.parent != self || stat.state == 0 || is_sanitizer_helper(stat)) continue;
    found.push_back({static_cast<pid_t>(std::stol(name)), stat.state == 'Z'});
  }
  return found;
}

// Pids of this process's children that are still alive.
inline std::vector<pid_t> running_children() {
  std::vector<pid_t> running;
  for (const Child& child : children_of_this_process())
    if (!child.zombie) running.push_back(child.pid);
  return running;
}

// Passes when this process has no children at all. Otherwise fails with a message saying how
// many were zombies and how many still ran, then cleans up (kills and reaps them) so that one
// failing test does not spoil the next.
inline ::testing::AssertionResult no_leftover_children(
    std::chrono::milliseconds grace = std::chrono::milliseconds(500)) {
  // A child that was signalled a moment ago may need a little time to die; give it `grace`.
  eventually([] { return running_children().empty(); }, grace);
  int zombies = 0;
  std::vector<pid_t> running;
  for (const Child& child : children_of_this_process()) {
    if (child.zombie) {
      ++zombies;
      waitpid(child.pid, nullptr, 0);
    } else {
      running.push_back(child.pid);
    }
  }
  for (pid_t pid : running) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  if (zombies == 0 && running.empty()) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  if (zombies > 0) {
    failure << zombies
            << " child process(es) had exited but were never reaped (zombies): was waitpid() "
               "called for every child? ";
  }
  if (!running.empty()) {
    failure << running.size()
            << " child process(es) were still running when the test ended: did the function "
               "return before it had waited for (or killed, then waited for) every child it "
               "started?";
  }
  return failure;
}

}  // namespace testkit
