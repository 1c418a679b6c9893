// Tells a deadlock from a slow call, so a hang is reported in a fraction of a second instead of
// at its deadline.
//
// Why: a deadlocked starter (or a half-fixed kata) used to cost the learner the whole deadline,
// often 5 s, before its first verdict. Go's runtime shows the idea ("all goroutines are asleep -
// deadlock!"): when every thread is blocked in a wait that only another of those threads could
// end, nothing will ever wake them, and waiting longer proves nothing. testkit's deadline
// (run_within in deadline.cpp) asks this watch every 100 ms while the call under test runs.
//
// What counts as such a wait (read from /proc/<pid>/task/<tid>/syscall, Linux only):
//   a futex wait with no timeout (std::mutex, std::condition_variable::wait, std::thread::join,
//   a std::future's get()); read() or write() on a pipe; poll() with no timeout on pipes only;
//   waitpid() / waitid() without WNOHANG.
// Any other state (running, sleep_for, a wait with a timeout, a socket, the terminal) means
// "maybe not a deadlock", and the call keeps its full deadline. The threads looked at are all
// of the test process's (but the watchers', which only wait with a deadline) and all of its
// descendants'; a pipe counts only if every process that holds it open is one of those.
// Two looks in a row must see the same waits with no context switch in between: then there was
// one moment when all of them were asleep at once, and only one of them could have woken another.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace testkit::detail {

// A thread that only waits, with a deadline, for the call under test: left out of the looks.
// (A nested deadline's watcher sleeps in a timed wait, which would otherwise hide a deadlock.)
void add_watcher(pid_t tid);
void remove_watcher(pid_t tid);

class DeadlockWatch {
 public:
  // `runner`: the thread that runs the call under test (named as such in the description).
  explicit DeadlockWatch(pid_t runner) : runner_(runner) {}

  // Empty, unless this look and the one before found every thread blocked for good, in the same
  // waits: then who waits for what, in words ("the call: read() on a pipe ...; child 4711: ...").
  std::string look();

 private:
  pid_t runner_;
  std::map<pid_t, std::string> last_;  // thread id -> its wait, as /proc said, at the last look
};

}  // namespace testkit::detail
