// Plumbing for tests of code that forks: memory a test shares with its children, children that
// die with the test, one way to say how a child ended, and a way to watch any process end.
//
// Why: a process kata's test must see what its children did (they cannot write to the test's
// variables), must never leave a child behind when it fails or times out, and must say in
// words what waitpid() reported. Every process kata needs the same pieces; here they are once.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "testkit/eventually.hpp"
#include "testkit/proc_stat.hpp"

namespace testkit {

// ---- Memory shared with children -------------------------------------------------------------

// A T in memory that this process and every child it forks afterwards share: what one of them
// writes there, all of them see. (Ordinary memory is copied by fork(), so a child's writes
// never reach the test.) T is built in place from `args` (value-initialised without them) and
// must work between processes: plain data, or lock-free atomics.
template <typename T>
class Shared {
 public:
  template <typename... Args>
  explicit Shared(Args&&... args) {
    void* memory =
        mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    value_ = new (memory) T(std::forward<Args>(args)...);
  }
  ~Shared() {
    value_->~T();
    munmap(value_, sizeof(T));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  T& operator*() const { return *value_; }
  T* operator->() const { return value_; }
  T* get() const { return value_; }

 private:
  T* value_;
};

// A start line for processes: `count` processes call arrive_and_wait(), and none of them goes
// on before all have arrived. Lives in shared memory: `testkit::Shared<ProcessLatch> start(4);`.
// Like TimedBarrier it never hangs: a process that has waited `deadline` gives up, returns
// false and breaks the latch, so every process waiting or arriving later returns false at once.
class ProcessLatch {
 public:
  explicit ProcessLatch(int count) : count_(count) {}

  bool arrive_and_wait(std::chrono::milliseconds deadline) {
    arrived_.fetch_add(1);
    const bool all_here = eventually([this] { return broken_.load() || arrived_.load() >= count_; },
                                     deadline, std::chrono::milliseconds(1));
    if (!all_here) broken_.store(true);
    return all_here && !broken_.load();
  }
  int arrived() const { return arrived_.load(); }
  bool broken() const { return broken_.load(); }

 private:
  static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
                "shared between processes");
  const int count_;
  std::atomic<int> arrived_{0};
  std::atomic<bool> broken_{false};
};

// ---- Children that die with the test ---------------------------------------------------------

// Makes the calling child process die (SIGKILL) when `parent` does. Call it first thing in a
// child. The kernel sends the signal when the *thread* that forked the child ends, which for a
// test is at the latest when the test process ends (after a TIMEOUT, say): a hung child never
// outlives its test. Ends the child at once if `parent` is already gone.
inline void die_with_parent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(99);
}

// Wraps a child's body so that the child dies with this process (see die_with_parent), which it
// names now, in the parent: `bodies.push_back(testkit::dies_with_parent([] { return 0; }));`.
template <typename Body>
auto dies_with_parent(Body body) {
  return [parent = getpid(), body = std::move(body)]() mutable -> decltype(body()) {
    die_with_parent(parent);
    return body();
  };
}

// The same for each body of a list.
template <typename Body>
std::vector<Body> each_dies_with_parent(const std::vector<Body>& bodies) {
  std::vector<Body> wrapped;
  wrapped.reserve(bodies.size());
  for (const auto& body : bodies) wrapped.emplace_back(dies_with_parent(body));
  return wrapped;
}

// ---- How a child ended -----------------------------------------------------------------------

// What waitpid() said about one child, taken apart.
struct ChildStatus {
  pid_t pid = -1;
  bool exited = false;  // it ended normally; see exit_code
  int exit_code = -1;   // 0..255 when exited
  int signal = 0;       // the signal that ended it, when it did not exit
};

// Blocks until child `pid` has ended, reaps it and says how it ended.
inline ChildStatus wait_for_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  ChildStatus child{pid};
  if (WIFEXITED(status)) {
    child.exited = true;
    child.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.signal = WTERMSIG(status);
  }
  return child;
}

// The test's own fork-join, for tests that need children but are not testing fork-join: runs
// each body in a child of its own (all at the same time, each dying with the test), the body's
// value being the exit code, waits for all and returns how each ended, in the order of the bodies.
inline std::vector<ChildStatus> run_in_children(const std::vector<std::function<int()>>& bodies) {
  const pid_t parent = getpid();
  std::vector<pid_t> pids;
  for (const auto& body : bodies) {
    const pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      for (pid_t started : pids) wait_for_child(started);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      die_with_parent(parent);
      _exit(body());
    }
    pids.push_back(pid);
  }
  std::vector<ChildStatus> statuses;
  for (pid_t pid : pids) statuses.push_back(wait_for_child(pid));
  return statuses;
}

// How a child ended, in words, for a failure message: "exited with code 3", "was killed by
// signal 6 (Aborted)". Works for any outcome struct with the fields exited, exit_code and
// signal (a kata's own, or ChildStatus), and adds ", timed_out=..." when it has that field.
// Values that waitpid() can never give are named as such, with their likely cause.
template <typename Outcome>
std::string describe(const Outcome& outcome) {
  std::string text;
  if (outcome.exited) {
    text = "exited with code " + std::to_string(outcome.exit_code);
    if (outcome.exit_code < 0 || outcome.exit_code > 255) {
      text +=
          ", which no exit code can be (they are 0..255): is that the raw status word from "
          "waitpid() rather than the code inside it?";
    }
  } else if (outcome.signal > 64) {  // Linux numbers its signals 1..64
    text = "was killed by \"signal\" " + std::to_string(outcome.signal) +
           ", which is no signal number: is that the raw status word from waitpid() (a core "
           "dump sets one more bit in it, see WCOREDUMP) rather than the signal inside it?";
  } else if (outcome.signal != 0) {
    text = "was killed by signal " + std::to_string(outcome.signal) + " (" +
           strsignal(outcome.signal) + ")";
  } else {
    text = "neither exited nor was killed by a signal (exited=false, signal=0, exit_code=" +
           std::to_string(outcome.exit_code) + "): was it ever waited for?";
  }
  if constexpr (requires { outcome.timed_out; }) {
    text += outcome.timed_out ? " (timed_out=true)" : " (timed_out=false)";
  }
  return text;
}

// ---- Watching a process ----------------------------------------------------------------------

// Watches one process, any process (a sibling too, which waitpid() cannot watch), through its
// /proc/<pid> directory. The directory stays open and tied to that very process: once the
// process has been reaped it reads as gone, even if the kernel has given its pid to a new one.
class ProcessWatch {
 public:
  explicit ProcessWatch(pid_t pid)
      : dir_(pid > 0 ? open(("/proc/" + std::to_string(pid)).c_str(),
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                     : -1) {}
  ~ProcessWatch() {
    if (dir_ >= 0) close(dir_);
  }
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // False when the process was already gone (or /proc is missing) when the watch began.
  bool found() const { return dir_ >= 0; }
  // It has ended: it is a zombie (its parent may reap it now) or already reaped.
  bool ended() const {
    const char s = state();
    return s == 'Z' || s == 'X' || s == 'x' || s == 0;
  }
  // It has ended and its parent has reaped it: nothing of it is left.
  bool reaped() const { return state() == 0; }

 private:
  // The state letter of /proc/<pid>/stat (R, S, Z, ...), or 0 once the process is gone.
  char state() const { return dir_ < 0 ? 0 : read_proc_stat(dir_, "stat").state; }

  int dir_;
};

// True when some thread of process `pid` is blocked in wait(), waitpid() or waitid() right now
// (the kernel names the function it sleeps in, do_wait, in /proc/<pid>/task/<tid>/wchan). False
// when none is, and also when the kernel does not say (then a test must fall back on a bound).
inline bool blocked_in_wait(pid_t pid) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return false;
  bool waiting = false;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = open((tasks + "/" + entry->d_name + "/wchan").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char name[64] = {};
    const ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    if (n > 0 && std::strncmp(name, "do_wait", 7) == 0) waiting = true;
  }
  closedir(dir);
  return waiting;
}

}  // namespace testkit
