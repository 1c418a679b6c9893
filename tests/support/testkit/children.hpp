// Checks that a test left no child processes behind: neither zombies (exited, never reaped
// with waitpid) nor children that are still running.
//
// Why: a parent that forgets waitpid leaks a zombie per child; a parent that forgets to kill a
// hung child leaks a running process. Both are invisible unless somebody looks. The kernel
// answers waitpid(-1, ..., WNOHANG) with ECHILD exactly when no child is left.
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

// Pids of this process's children that are still alive (from /proc/<pid>/stat's ppid field).
inline std::vector<pid_t> running_children() {
  std::vector<pid_t> found;
  const pid_t self = getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const ProcStat stat = read_proc_stat(AT_FDCWD, (entry.path() / "stat").c_str());
    if (stat.parent == self && stat.state != 'Z' && stat.state != 0)
      found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

// Passes when this process has no children at all. Otherwise fails with a message saying how
// many were zombies and how many still ran, then cleans up (kills and reaps them) so that one
// failing test does not spoil the next.
inline ::testing::AssertionResult no_leftover_children(
    std::chrono::milliseconds grace = std::chrono::milliseconds(500)) {
  // A child that was signalled a moment ago may need a little time to die; give it `grace`.
  eventually([] { return running_children().empty(); }, grace);
  std::vector<pid_t> running = running_children();
  int zombies = 0;
  int status = 0;
  for (;;) {
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      bool was_running = false;
      for (pid_t r : running) was_running = was_running || r == pid;
      if (!was_running) ++zombies;
      continue;
    }
    break;
  }
  for (pid_t pid : running) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
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
