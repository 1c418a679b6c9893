#include "subprocess.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cgroup.hpp"
#include "sandbox.hpp"

namespace tutor {

namespace {

using Clock = std::chrono::steady_clock;

void append_capped(std::string& out, const char* data, std::size_t n, std::size_t cap,
                   std::size_t& dropped) {
  out.append(data, n);
  if (out.size() > cap) {
    // Keep the head (where the first failure usually is) and the tail (how it ended).
    const std::size_t head = cap / 2;
    const std::size_t excess = out.size() - cap;
    out.erase(head, excess);
    dropped += excess;
  }
}

// The process groups of the commands running now. If the tutor itself is interrupted (Ctrl-C
// in the terminal reaches only the foreground group, not a test's own), a deadlocked test would
// otherwise live on: the handler kills every one of them, then ends the tutor the usual way.
constexpr int kMaxRunning = 64;
volatile sig_atomic_t running_groups[kMaxRunning] = {};
std::mutex running_slots_mutex;

void kill_running_groups_and_exit(int sig) {
  for (int i = 0; i < kMaxRunning; ++i)
    if (running_groups[i] > 0) killpg(running_groups[i], SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

void install_interrupt_handlers() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction action {};
      action.sa_handler = kill_running_groups_and_exit;
      sigemptyset(&action.sa_mask);
      sigaction(sig, &action, nullptr);
    }
  });
}

// Registers a process group for the interrupt handler while it runs.
class RunningGroup {
 public:
  explicit RunningGroup(pid_t group) {
    std::lock_guard lock(running_slots_mutex);
    for (int i = 0; i < kMaxRunning; ++i) {
      if (running_groups[i] == 0) {
        running_groups[i] = group;
        slot_ = i;
        return;
      }
    }
  }
  ~RunningGroup() {
    if (slot_ < 0) return;
    std::lock_guard lock(running_slots_mutex);
    running_groups[slot_] = 0;
  }
  RunningGroup(const RunningGroup&) = delete;
  RunningGroup& operator=(const RunningGroup&) = delete;

 private:
  int slot_ = -1;
};

// Grading works without a sandbox or cgroups, with less protection: said once per tutor run,
// on stderr, so that it is seen and not repeated for every test.
void say_once_what_protection_is_missing(const Limits& limits) {
  static std::once_flag said;
  std::call_once(said, [&] {
    std::string missing;
    if (!sandbox_support().available)
      missing += fmt::format(
          "  - no sandbox: {}. Tests run as you, see every process you own and can write your "
          "files; kill(-1), kill(0) and a signal to a reaped child are still refused by testkit, "
          "and leftover processes are killed by process group.\n",
          sandbox_support().missing);
    if (limits.processes > 0 || limits.memory_mb > 0) {
      Cgroup probe(limits.processes, static_cast<long long>(limits.memory_mb) << 20);
      if (limits.processes > 0 && !probe.caps_tasks())
        missing +=
            "  - no pids cgroup (not root, or no cgroup file system): processes are capped "
            "by RLIMIT_NPROC, which does not hold for root.\n";
      if (limits.memory_mb > 0 && !probe.caps_memory())
        missing += "  - no memory cgroup: a test's memory is not capped.\n";
    }
    if (!missing.empty())
      fmt::print(stderr, "tutor: grading here runs with less protection than it could:\n{}",
                 missing);
  });
}

}  // namespace

std::string describe_signal(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV (segmentation fault: a bad pointer, a dangling reference, or a container "
             "used from two threads at once)";
    case SIGABRT:
      return "SIGABRT (abort: often std::terminate, e.g. a std::thread destroyed while still "
             "joinable, or an exception nobody caught)";
    case SIGBUS:
      return "SIGBUS (bus error: bad memory access)";
    case SIGFPE:
      return "SIGFPE (arithmetic error, e.g. division by zero)";
    case SIGILL:
      return "SIGILL (illegal instruction)";
    case SIGKILL:
      return "SIGKILL (killed: out of memory, a resource limit, or a kill() that reached the "
             "test itself, e.g. through a wrong pid)";
    case SIGXCPU:
      return "SIGXCPU (CPU time limit exceeded: a busy loop that never ends?)";
    case SIGXFSZ:
      return "SIGXFSZ (file size limit exceeded: a file written without end?)";
    case SIGPIPE:
      return "SIGPIPE (wrote to a pipe whose reading end was closed)";
    case SIGTERM:
      return "SIGTERM (terminated: a SIGTERM reached the test itself; a kill() with a wrong "
             "pid, such as one left at -1 or 0?)";
    default:
      return fmt::format("signal {} ({})", sig, strsignal(sig));
  }
}

RunResult run_command(const RunRequest& request) {
  RunResult result;
  const auto started = Clock::now();
  const bool in_sandbox = request.sandbox && sandbox_support().available;
  if (request.sandbox) say_once_what_protection_is_missing(request.limits);
  result.sandboxed = in_sandbox;
  const int max_tasks = request.limits.processes > 0
                            ? request.limits.processes + (in_sandbox ? kSandboxOwnTasks : 0)
                            : 0;
  Cgroup cgroup(max_tasks, static_cast<long long>(request.limits.memory_mb) * 1024 * 1024);

  // Build argv/envp before fork: the child may only make async-signal-safe calls.
  const std::vector<std::string> command =
      in_sandbox ? sandboxed(request.argv, request.writable) : request.argv;
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && request.extra_env.count(entry.substr(0, eq))) continue;
    // A test process gets only the GoogleTest and sanitizer settings the grader gives it: none
    // leaks in from the tutor's own environment (a tutor run as a test has GTEST_OUTPUT set,
    // and a GTEST_OUTPUT inherited by a listing makes it write a report where it cannot).
    if (request.sandbox && (entry.rfind("GTEST_", 0) == 0 || entry.rfind("TSAN_OPTIONS=", 0) == 0))
      continue;
    env_strings.push_back(entry);
  }
  for (const auto& [key, value] : request.extra_env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // Output pipe, and a status pipe that tells whether execve worked: it is close-on-exec, so a
  // successful exec closes it with nothing written; a failed one writes its errno first.
  int fds[2];
  int exec_status[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.start_failed = true;
    result.output = fmt::format("could not create a pipe: {}", strerror(errno));
    return result;
  }
  if (pipe2(exec_status, O_CLOEXEC) != 0) {
    close(fds[0]);
    close(fds[1]);
    result.start_failed = true;
    result.output = fmt::format("could not create a pipe: {}", strerror(errno));
    return result;
  }
  const bool use_rlimit_nproc = request.limits.processes > 0 && !cgroup.caps_tasks();

  // vfork, not fork: the child borrows the tutor's memory until it calls execve, so nothing is
  // copied. fork copied the page tables of a tutor with many threads, and then every page a
  // sibling thread wrote was copied again (`make check` spent a fifth of its CPU there). The
  // child makes system calls only, and gets no signal handler of the tutor's: signals are
  // blocked around vfork, and the child puts caught ones back to their default first.
  sigset_t all_signals, old_mask;
  sigfillset(&all_signals);
  pthread_sigmask(SIG_BLOCK, &all_signals, &old_mask);
  pid_t pid = vfork();
  if (pid != 0) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) {
    result.start_failed = true;
    result.output = fmt::format("could not fork: {}", strerror(errno));
    for (int fd : {fds[0], fds[1], exec_status[0], exec_status[1]}) close(fd);
    return result;
  }
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction current {};
      if (sigaction(sig, nullptr, &current) != 0) continue;
      if (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN) continue;
      struct sigaction by_default {};
      by_default.sa_handler = SIG_DFL;
      sigaction(sig, &by_default, nullptr);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    setpgid(0, 0);
    cgroup.enter_from_child();
    if (use_rlimit_nproc) {
      rlimit lim{static_cast<rlim_t>(request.limits.processes),
                 static_cast<rlim_t>(request.limits.processes)};
      setrlimit(RLIMIT_NPROC, &lim);
    }
    if (request.limits.cpu_seconds > 0) {
      rlimit lim{static_cast<rlim_t>(request.limits.cpu_seconds),
                 static_cast<rlim_t>(request.limits.cpu_seconds + 1)};
      setrlimit(RLIMIT_CPU, &lim);
    }
    if (request.limits.file_mb > 0) {
      const rlim_t bytes = static_cast<rlim_t>(request.limits.file_mb) * 1024 * 1024;
      rlimit lim{bytes, bytes};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (request.working_dir.empty() || chdir(request.working_dir.c_str()) == 0)
      execve(argv[0], argv.data(), envp.data());
    const int error = errno;
    (void)!write(exec_status[1], &error, sizeof error);
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so there is no window where killpg misses it
  install_interrupt_handlers();
  RunningGroup registered(pid);
  close(fds[1]);
  close(exec_status[1]);
  int exec_errno = 0;
  const bool exec_failed =
      read(exec_status[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close(exec_status[0]);

  const auto deadline = started + request.timeout;
  std::size_t dropped = 0;
  bool exited = false;
  int status = 0;
  char buf[65536];
  bool pipe_open = true;
  // A pidfd becomes readable when the child ends, so the loop sleeps in poll() until output, the
  // end or the deadline comes. Without one (Linux before 5.3) it looks every 10 ms: with 16 tests
  // at once that was 1600 wake-ups a second, ~5% of `make check`'s CPU.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  while (!exited) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const int wait_ms = pidfd < 0 ? (pipe_open ? 10 : 2)
                                  : static_cast<int>(std::clamp<long long>(left.count(), 0, 1000));
    pollfd p[2] = {{pipe_open ? fds[0] : -1, POLLIN, 0}, {pidfd, POLLIN, 0}};
    const int ready = poll(p, 2, wait_ms);
    if (ready > 0 && p[0].revents != 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) {
        append_capped(result.output, buf, static_cast<std::size_t>(n), request.max_output, dropped);
        if (request.on_output)
          request.on_output(std::string_view(buf, static_cast<std::size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        pipe_open = false;
      }
    }
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      exited = true;
    } else if (Clock::now() >= deadline) {
      result.timed_out = true;
      if (request.term_grace.count() > 0) {
        killpg(pid, SIGTERM);
        const auto grace_end = Clock::now() + request.term_grace;
        while (Clock::now() < grace_end && !exited) {
          exited = waitpid(pid, &status, WNOHANG) == pid;
          pollfd p{pipe_open ? fds[0] : -1, POLLIN, 0};
          if (poll(&p, 1, 20) > 0 && (p.revents & POLLIN) != 0) {
            ssize_t n = read(fds[0], buf, sizeof buf);
            if (n > 0)
              append_capped(result.output, buf, static_cast<std::size_t>(n), request.max_output,
                            dropped);
            else
              pipe_open = false;
          }
        }
      }
      killpg(pid, SIGKILL);
      if (!exited) waitpid(pid, &status, 0);
      exited = true;
    }
  }
  if (pidfd >= 0) close(pidfd);
  // Whatever the command left running dies with it.
  if (killpg(pid, 0) == 0) {
    ++result.leftovers_killed;
    killpg(pid, SIGKILL);
  }
  result.leftovers_killed += cgroup.kill_all();
  result.hit_process_limit = cgroup.task_limit_hit();
  result.hit_memory_limit = cgroup.memory_limit_hit();
  // Drain what is left in the pipe; stop after a moment if an escaped process still holds it.
  const auto drain_until = Clock::now() + std::chrono::milliseconds(300);
  while (pipe_open && Clock::now() < drain_until) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    append_capped(result.output, buf, static_cast<std::size_t>(n), request.max_output, dropped);
  }
  close(fds[0]);
  if (dropped > 0)
    result.output += fmt::format("\n[tutor: {} bytes of output left out]\n", dropped);

  if (exec_failed) {
    result.start_failed = true;
    result.output =
        fmt::format("could not start {}: {}", request.argv.front(), strerror(exec_errno));
  } else if (!result.timed_out) {
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
      // bwrap exits with 128 + N when a signal N ended the command it ran.
      if (in_sandbox && result.exit_code > 128 && result.exit_code < 128 + NSIG) {
        result.signal = result.exit_code - 128;
        result.exit_code = -1;
      }
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace tutor
