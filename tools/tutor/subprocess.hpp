// Runs one command in a child process with a time limit, capturing its output.
//
// The child gets a process group of its own, so that on a timeout (or once it has exited)
// every process it left behind is killed too: a learner's deadlock or forgotten child never
// outlives its test. With limits, the child also runs in a cgroup with caps on its tasks (so a
// fork loop fails inside its own kata) and its memory, with an RLIMIT_CPU and an RLIMIT_FSIZE.
// A sandboxed command runs in bubblewrap (sandbox.hpp) inside that cgroup.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "limits.hpp"

namespace tutor {

struct RunRequest {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{10000};
  std::map<std::string, std::string> extra_env;
  std::string working_dir;                      // empty: inherit
  Limits limits;                                // zeros: no limits
  std::size_t max_output = 256 * 1024;          // bytes kept (head and tail)
  bool sandbox = false;                         // in bwrap, when the host allows it (sandbox.hpp)
  std::vector<std::filesystem::path> writable;  // folders the sandboxed command may write
  // On a timeout, SIGTERM first and SIGKILL only after this long: mpirun, told to stop, stops
  // its ranks, which live in process groups of their own (outside a sandbox's PID namespace,
  // nothing else would end them when the grader is not root and has no cgroup). 0: SIGKILL.
  std::chrono::milliseconds term_grace{0};
  // Called with each piece of output as it arrives (e.g. to show a build's progress).
  std::function<void(std::string_view)> on_output;
};

struct RunResult {
  int exit_code = -1;         // when the child exited normally
  int signal = 0;             // when a signal ended it (not ours)
  bool timed_out = false;     // we killed it after `timeout`
  bool start_failed = false;  // the program could not be started (output says why)
  std::string output;         // stdout and stderr, interleaved as written
  double seconds = 0;
  bool hit_process_limit = false;  // the cgroup refused a fork at least once
  bool hit_memory_limit = false;   // the kernel killed a process of it at its memory cap
  bool sandboxed = false;          // it really ran in the sandbox
  int leftovers_killed = 0;        // processes still alive when the child ended

  bool ok() const { return !timed_out && signal == 0 && exit_code == 0 && !start_failed; }
};

// Safe to call from several threads at once: each call has its own pipes, process group and
// cgroup, and Ctrl-C (SIGINT, SIGTERM, SIGHUP) kills every process group still running.
RunResult run_command(const RunRequest& request);

// "SIGSEGV (segmentation fault: a bad pointer or a dangling reference)" etc.
std::string describe_signal(int signal);

}  // namespace tutor
