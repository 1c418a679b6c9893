// What the kata test programs' own kill(), fork() and wait functions do beyond the C library's,
// and how a test steers them. They are defined in testkit/guard_kill.cpp, which every kata test
// links (its ThreadSanitizer build does not; no katas that fork are built with it).
//
// - kill() refuses calls that would signal processes the test does not own: kill(-1, sig),
//   kill(0, sig), and a signal to a child this process forked and has already reaped (its pid
//   may belong to an unrelated process by then). It prints "[testkit] refused ..." for the
//   grader and counts the refusal; testkit::LeakCheckedTest fails the test that made it.
// - fork() can be told to fail, as it does when the system runs out of processes.
// - wait(), waitpid(), wait4() and waitid() can report core dumps, as on machines that write
//   core files, without writing any.
//
// Why: a process kata's typical mistakes reach beyond the test (a stray signal) or show only on
// a machine unlike the learner's (fork failing, core files on). Here every test can see them.
#pragma once

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace testkit {

namespace detail {
// Filled in by guard_kill.cpp when the program links it (before main); empty otherwise, as in
// a ThreadSanitizer build. Constant-initialised, so it is empty before any code runs.
struct Interposed {
  int (*refused_call_count)() = nullptr;
  std::string (*refused_call)(int index) = nullptr;
  void (*fail_forks_after)(int successes) = nullptr;  // successes < 0: fork() never fails
  void (*report_core_dumps)(bool on) = nullptr;
};
inline constinit Interposed interposed{};

inline const Interposed& linked_interposed() {
  if (interposed.fail_forks_after == nullptr) {
    throw std::logic_error(
        "this test program does not link testkit/guard_kill.cpp, which ForkFailsAfter and "
        "CoreDumpsReported need");
  }
  return interposed;
}
}  // namespace detail

// How many calls this program has refused so far (0 without guard_kill.cpp).
inline int refused_call_count() {
  return detail::interposed.refused_call_count != nullptr ? detail::interposed.refused_call_count()
                                                          : 0;
}

// What the `index`-th refused call (from 0) said; "" once it is too old to be remembered.
inline std::string refused_call(int index) {
  return detail::interposed.refused_call != nullptr ? detail::interposed.refused_call(index) : "";
}

// While it exists, fork() succeeds `successes` more times and then fails with EAGAIN, every time,
// as it would once the system (or the grader's limit) has no process left to give.
class ForkFailsAfter {
 public:
  explicit ForkFailsAfter(int successes) {
    detail::linked_interposed().fail_forks_after(successes);
  }
  ~ForkFailsAfter() { detail::interposed.fail_forks_after(-1); }
  ForkFailsAfter(const ForkFailsAfter&) = delete;
  ForkFailsAfter& operator=(const ForkFailsAfter&) = delete;
};

// For tests of "a fork() that fails reaches the caller": runs `call` while fork() succeeds
// `successes` times and then fails with EAGAIN. Returns "" when `call` threw a std::system_error
// holding EAGAIN (the failed fork's own errno); otherwise a sentence for the failure message
// saying what `what` (the function under test, "fork_join()") did instead.
template <typename Call>
std::string failed_fork_not_reported(int successes, const std::string& what, Call&& call) {
  std::string instead = "returned normally";
  {
    ForkFailsAfter out_of_processes(successes);
    try {
      call();
    } catch (const std::system_error& error) {
      if (error.code().value() == EAGAIN) return "";
      instead = "threw std::system_error \"" + std::string(error.what()) + "\"";
    } catch (const std::exception& error) {
      instead = "threw \"" + std::string(error.what()) + "\", not a std::system_error";
    }
  }
  return "fork() number " + std::to_string(successes + 1) +
         " failed with EAGAIN (no process left to give), and " + what + " " + instead +
         ". The caller should learn that not every body ran, and why: from a std::system_error "
         "holding that fork()'s errno. Could errno have changed before it was read?";
}

// While it exists, a child that a core-dumping signal ended (SIGABRT, SIGSEGV, SIGFPE, ...) is
// reported with the core dump bit set in its status (WCOREDUMP true, SIGABRT's status 134 instead
// of 6; waitid() says CLD_DUMPED), as on a machine where core files are on. No file is written.
class CoreDumpsReported {
 public:
  CoreDumpsReported() { detail::linked_interposed().report_core_dumps(true); }
  ~CoreDumpsReported() { detail::interposed.report_core_dumps(false); }
  CoreDumpsReported(const CoreDumpsReported&) = delete;
  CoreDumpsReported& operator=(const CoreDumpsReported&) = delete;
};

}  // namespace testkit
