// Linked into every kata test (not the ThreadSanitizer builds, whose runtime wraps kill itself):
// a kill() that refuses the two calls that reach far beyond the test.
//
// Why: kill(-1, sig) signals every process the caller may signal (run as root: the grader, the
// shell, the editor) and kill(0, sig) the caller's whole process group. Both are one slip away
// in a process kata (a pid field left at its default of -1 or 0). This definition takes the
// place of the C library's for the test program, says what happened, and lets the test fail
// normally instead of taking the learner's session down with it.
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "testkit/markers.hpp"

extern "C" int kill(pid_t pid, int sig) {
  if (pid == -1 || (pid == 0 && sig != 0)) {
    std::fprintf(stderr,
                 "\n%skill(%d, %d): pid %d means %s. Only signal a child you started and have "
                 "not reaped yet: check pid > 0 first.\n",
                 testkit::markers::kRefused, pid, sig, pid,
                 pid == -1 ? "every process you are allowed to signal"
                           : "your whole process group, the test included");
    errno = EPERM;
    return -1;
  }
  return static_cast<int>(syscall(SYS_kill, pid, sig));
}
