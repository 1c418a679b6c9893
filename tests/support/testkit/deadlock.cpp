// testkit/deadlock.hpp's watch: which threads wait for what, read from /proc, and whether all
// of them are blocked for good. Compiled once and linked into every kata test (cmake/Kata.cmake).
#include "testkit/deadlock.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include "testkit/proc_stat.hpp"

namespace testkit::detail {

namespace {

// The watchers' thread ids, in slots without a lock: a fork() while a look held a mutex here
// would leave the child a mutex that nobody can unlock. (More than 16 nested deadlines at once do
// not happen; a watcher without a slot only makes deadlocks slower to name.)
std::array<std::atomic<pid_t>, 16> watchers{};

// A small /proc file, whole; empty if it cannot be read (the thread or process is gone).
std::string read_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buffer[1024];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  close(fd);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
}

std::vector<pid_t> numbered_entries(const std::string& folder) {
  std::vector<pid_t> found;
  if (DIR* dir = opendir(folder.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      char* end = nullptr;
      const long n = std::strtol(entry->d_name, &end, 10);
      if (end != entry->d_name && *end == '\0') found.push_back(static_cast<pid_t>(n));
    }
    closedir(dir);
  }
  return found;
}

// What fd `fd` of process `pid` is ("pipe:[1234]", "/dev/null", ...); empty if unknown.
std::string fd_target(pid_t pid, long fd) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%ld", static_cast<int>(pid), fd);
  char target[256];
  const ssize_t n = readlink(path, target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

bool is_pipe(const std::string& target) { return target.rfind("pipe:[", 0) == 0; }

// The number after `key` in a /proc status text ("voluntary_ctxt_switches:\t12").
long field(const std::string& text, const char* key) {
  const auto at = text.find(key);
  return at == std::string::npos ? -1
                                 : std::strtol(text.c_str() + at + std::strlen(key), nullptr, 10);
}

// A futex wait in words, told apart by how the C and C++ libraries of Debian 12 (glibc 2.36,
// libstdc++ 12) call it: a mutex waits with the value 2 ("locked, with waiters"), a condition
// variable with a bit set, a std::future on a shared futex with its waiter bit (0x80000000).
// Only the words depend on this; whether the wait is for good does not.
std::string futex_words(unsigned long long command, bool is_private, unsigned long long value) {
  if (command == FUTEX_WAIT_BITSET) return "waits on a condition variable that nobody notifies";
  if (command == FUTEX_WAIT && is_private && value == 2)
    return "waits to lock a mutex that is never unlocked";
  if (command == FUTEX_WAIT && !is_private && (value & 0x80000000u) != 0)
    return "waits in get() for a future's result that nobody sets";
  return "waits on a lock, a condition variable or a future that nobody releases";
}

// One thread's wait, if it can only be ended by another thread or process.
struct Wait {
  std::string signature;           // what /proc showed; equal in two looks = the same wait
  std::string words;               // the wait in words
  std::vector<std::string> pipes;  // the pipes it waits on ("pipe:[1234]")
  bool pipe_read = false;          // waits for bytes (else: for room to write)
};

// The wait of thread `tid` of process `pid`, if it is blocked for good; else nothing.
std::optional<Wait> blocked_wait(pid_t pid, pid_t tid, const std::set<pid_t>& own_threads) {
  const std::string task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
  const std::string before = read_file(task + "/status");
  const std::string call = read_file(task + "/syscall");
  const std::string after = read_file(task + "/status");
  auto asleep = [](const std::string& status) {
    return status.find("State:\tS") != std::string::npos ||
           status.find("State:\tD") != std::string::npos;
  };
  auto switches = [](const std::string& status) {
    return std::to_string(field(status, "voluntary_ctxt_switches:")) + "/" +
           std::to_string(field(status, "nonvoluntary_ctxt_switches:"));
  };
  // The same number of context switches before and after reading the call: it slept throughout.
  if (!asleep(before) || !asleep(after) || switches(before) != switches(after)) return {};
  unsigned long long a[7] = {};
  long nr = -1;
  if (std::sscanf(call.c_str(), "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2],
                  &a[3], &a[4], &a[5]) != 7) {
    return {};
  }
  Wait wait{call + " " + switches(before), "", {}, false};
  if (nr == SYS_futex) {
    const auto command =
        a[1] & ~static_cast<unsigned long long>(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if (a[3] != 0) return {};  // a timeout: it wakes up by itself
    if (command != FUTEX_WAIT && command != FUTEX_WAIT_BITSET && command != FUTEX_LOCK_PI &&
        command != FUTEX_WAIT_REQUEUE_PI) {
      return {};
    }
    // join() waits on the joined thread's id, which the kernel clears when that thread ends.
    const auto waited = static_cast<pid_t>(a[2]);
    if (pid == getpid() && waited != tid && own_threads.count(waited) > 0) {
      wait.words = "join() on thread " + std::to_string(waited) + ", which never ends";
    } else {
      wait.words = futex_words(command, (a[1] & FUTEX_PRIVATE_FLAG) != 0, a[2]);
    }
    return wait;
  }
  if (nr == SYS_read || nr == SYS_readv || nr == SYS_write || nr == SYS_writev) {
    const std::string target = fd_target(pid, static_cast<long>(a[0]));
    if (!is_pipe(target)) return {};
    wait.pipes = {target};
    wait.pipe_read = nr == SYS_read || nr == SYS_readv;
    wait.words = wait.pipe_read ? "read() on a pipe" : "write() to a full pipe";
    return wait;
  }
#ifdef SYS_poll
  const bool poll_call = nr == SYS_poll;
#else
  const bool poll_call = false;
#endif
  if (poll_call || nr == SYS_ppoll) {
    const bool forever = poll_call ? static_cast<int>(a[2]) < 0 : a[2] == 0;
    const auto count = static_cast<std::size_t>(a[1]);
    if (!forever || count == 0 || count > 256) return {};
    std::vector<pollfd> fds(count);
    const int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
    if (mem < 0) return {};
    const auto bytes = static_cast<ssize_t>(count * sizeof(pollfd));
    const bool got =
        pread(mem, fds.data(), static_cast<std::size_t>(bytes), static_cast<off_t>(a[0])) == bytes;
    close(mem);
    if (!got) return {};
    for (const pollfd& p : fds) {
      if (p.fd < 0) continue;
      const std::string target = fd_target(pid, p.fd);
      if (!is_pipe(target)) return {};
      wait.pipes.push_back(target);
    }
    wait.pipe_read = true;
    wait.words = "poll() on " + std::to_string(wait.pipes.size()) + " pipe(s), with no timeout";
    return wait;
  }
  if (nr == SYS_wait4 || nr == SYS_waitid) {
    const auto options = nr == SYS_wait4 ? a[2] : a[3];
    if ((options & WNOHANG) != 0) return {};
    const auto child = static_cast<int>(a[nr == SYS_wait4 ? 0 : 1]);
    wait.words = nr == SYS_wait4 && child > 0
                     ? "waitpid() for child " + std::to_string(child) + ", which never ends"
                     : "waits for a child to end, and none does";
    return wait;
  }
  return {};
}

struct Process {
  pid_t pid;
  char state;
};

// Process `root` and every process below it, by their parents in /proc/<pid>/stat.
std::vector<Process> process_tree(pid_t root) {
  std::multimap<pid_t, Process> by_parent;
  for (pid_t pid : numbered_entries("/proc")) {
    const ProcStat stat = read_proc_stat(pid);
    if (stat.state != 0)
      by_parent.emplace(static_cast<pid_t>(stat.parent), Process{pid, stat.state});
  }
  std::vector<Process> tree{{root, 'S'}};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto [from, to] = by_parent.equal_range(tree[i].pid);
    for (auto it = from; it != to; ++it) tree.push_back(it->second);
  }
  return tree;
}

// Who holds `pipe` open: "pid fd access" for every process that may, in any process.
struct Holder {
  pid_t pid;
  long fd;
  bool writes;
};
std::vector<Holder> pipe_holders(const std::string& pipe) {
  std::vector<Holder> holders;
  for (pid_t pid : numbered_entries("/proc")) {
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    for (pid_t fd : numbered_entries(fds)) {
      if (fd_target(pid, fd) != pipe) continue;
      const std::string info =
          read_file("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
      const auto at = info.find("flags:");
      const long flags =
          at == std::string::npos ? 0 : std::strtol(info.c_str() + at + 6, nullptr, 8);
      holders.push_back({pid, fd, (flags & O_ACCMODE) != O_RDONLY});
    }
  }
  return holders;
}

// The pipes the test process was started with (its stdout and stderr to the grader, say): their
// other ends may be held outside the test's PID namespace, where /proc does not show them, so a
// wait on one of them is never taken for a deadlock. Read once, when the program starts.
const std::set<std::string> inherited_pipes = [] {
  std::set<std::string> pipes;
  for (pid_t fd : numbered_entries("/proc/self/fd")) {
    if (std::string target = fd_target(getpid(), fd); is_pipe(target)) pipes.insert(target);
  }
  return pipes;
}();

// Whether process `pid` has a timer whose signal could end a wait: its POSIX timers (listed in
// /proc/<pid>/timers), and for the test process itself also alarm() and setitimer(). (Another
// process's alarm() does not show in /proc: a child that ends its own wait with alarm() would be
// taken for deadlocked. No kata does that.)
bool armed_timer(pid_t pid) {
  if (pid == getpid()) {
    for (int which : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
      itimerval timer{};
      if (getitimer(which, &timer) == 0 &&
          (timer.it_value.tv_sec != 0 || timer.it_value.tv_usec != 0)) {
        return true;
      }
    }
  }
  return read_file("/proc/" + std::to_string(pid) + "/timers").find("signal:") != std::string::npos;
}

}  // namespace

void add_watcher(pid_t tid) {
  for (auto& slot : watchers) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, tid)) return;
  }
}

void remove_watcher(pid_t tid) {
  for (auto& slot : watchers) {
    pid_t mine = tid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

std::string DeadlockWatch::look() {
  const pid_t self = getpid();
  std::set<pid_t> skipped;
  for (const auto& slot : watchers) skipped.insert(slot.load());
  // A timer (alarm(), setitimer(), timer_create()) may end a wait with its signal.
  if (armed_timer(self)) {
    last_.clear();
    return "";
  }
  std::map<pid_t, std::string> now;
  std::vector<std::pair<std::string, Wait>> waits;  // who, what
  std::set<pid_t> in_tree;
  const std::vector<Process> tree = process_tree(self);
  for (const Process& process : tree) {
    in_tree.insert(process.pid);
    if (process.pid != self && armed_timer(process.pid)) {
      last_.clear();
      return "";
    }
    const std::string who = process.pid == self ? "" : "child " + std::to_string(process.pid);
    if (process.state == 'Z') {
      now[process.pid] = "exited";
      waits.push_back({who, Wait{"", "has exited and was never reaped (waitpid)", {}, false}});
      continue;
    }
    std::vector<pid_t> threads = numbered_entries("/proc/" + std::to_string(process.pid) + "/task");
    const std::set<pid_t> own(threads.begin(), threads.end());
    for (pid_t tid : threads) {
      if (process.pid == self && skipped.count(tid) > 0) continue;
      std::optional<Wait> wait = blocked_wait(process.pid, tid, own);
      if (!wait) {
        last_.clear();  // someone can still act: not a deadlock (yet)
        return "";
      }
      now[tid] = wait->signature;
      std::string name = tid == runner_        ? "the call under test"
                         : process.pid == self ? "thread " + std::to_string(tid)
                         : threads.size() == 1 ? who
                                               : who + ", thread " + std::to_string(tid);
      // The call under test first: its wait is the one the test was waiting for.
      waits.insert(tid == runner_ ? waits.begin() : waits.end(), {name, std::move(*wait)});
    }
  }
  // A pipe wait ends when another process writes, reads or closes: each holder must be in view.
  for (auto& [who, wait] : waits) {
    for (const std::string& pipe : wait.pipes) {
      if (inherited_pipes.count(pipe) > 0) {
        last_.clear();
        return "";
      }
      std::string others;
      for (const Holder& h : pipe_holders(pipe)) {
        if (in_tree.count(h.pid) == 0) {
          last_.clear();
          return "";
        }
        if (h.writes == wait.pipe_read) {
          others += (others.empty() ? "" : ", ") +
                    (h.pid == self ? "this process itself" : "child " + std::to_string(h.pid)) +
                    " (fd " + std::to_string(h.fd) + ")";
        }
      }
      if (wait.pipes.size() == 1) {
        wait.words += others.empty() ? std::string(" that nobody else holds")
                      : wait.pipe_read
                          ? ", whose write end is still open in " + others
                          : ", whose read end is open in " + others + ", who never reads";
      }
    }
  }
  const bool same = now == last_;
  last_ = std::move(now);
  if (!same) return "";
  std::string words;
  for (const auto& [who, wait] : waits) {
    words +=
        (words.empty() ? "" : "; ") + (who.empty() ? "the test process" : who) + ": " + wait.words;
  }
  return words;
}

}  // namespace testkit::detail
