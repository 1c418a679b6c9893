// What the kernel knows about one thread of this process: its kernel id, whether it still
// exists, whether it was detached, and which system call it is blocked in right now (read from
// /proc/self/task/<tid>/syscall).
//
// Why: some properties show only in what a thread is doing at this moment, and reading that is
// exact where a timer would guess. "The caller is waiting to join this thread" lets a test hold
// a call until its thread is joined and let it go at once then (waits_to_join); "the idle worker
// sleeps in nanosleep" proves that nothing can wake it early, without timing a stop (sleeps).
// And a thread's kernel id (gettid) tells threads apart even when one ended before the other
// began: the kernel hands ids out in turn (and only reuses one after going round all of them,
// /proc/sys/kernel/pid_max, 32768 or more), while std::thread::id values are reused at once.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include "testkit/proc_stat.hpp"

namespace testkit {

// The kernel's id of the calling thread: unique among the live threads of the machine.
inline pid_t this_thread_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// True while thread `tid` of this process exists (a thread that has ended leaves
// /proc/self/task at once, even before anybody joins it).
inline bool thread_alive(pid_t tid) {
  std::error_code error;
  return std::filesystem::exists("/proc/self/task/" + std::to_string(tid), error);
}

// True if somebody called detach() on the thread that runs the caller. glibc records a thread's
// detach state, and pthread_getattr_np reports it; no std:: API can ask this.
inline bool this_thread_is_detached() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return false;
  int state = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&attributes, &state);
  pthread_attr_destroy(&attributes);
  return state == PTHREAD_CREATE_DETACHED;
}

// True while thread `tid` of this process is blocked: asleep in the kernel, waiting for a lock,
// a join, a notify, a timer or I/O (state S or D in /proc/self/task/<tid>/stat), not running
// or ready to run.
inline bool blocked(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  const char state = read_proc_stat(AT_FDCWD, path.c_str()).state;
  return state == 'S' || state == 'D';
}

// A system call a thread is blocked in: its number (SYS_futex, SYS_nanosleep, ...) and its
// first six arguments.
struct BlockedSyscall {
  long number = -1;
  std::array<std::uintptr_t, 6> args{};
};

// The system call thread `tid` of this process is blocked in right now. Empty while the thread
// runs (or is blocked outside a system call), once it has ended, and where the kernel does not
// say (see syscall_probe_works).
inline std::optional<BlockedSyscall> blocked_syscall(pid_t tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string line;
  if (!std::getline(file, line)) return std::nullopt;
  // The kernel writes "running", "-1 <sp> <pc>" (blocked, not in a system call), or
  // "<number> <arg0> ... <arg5> <sp> <pc>" with the arguments in hex.
  BlockedSyscall call;
  unsigned long args[6] = {};
  const int read = std::sscanf(line.c_str(), "%ld %lx %lx %lx %lx %lx %lx", &call.number, &args[0],
                               &args[1], &args[2], &args[3], &args[4], &args[5]);
  if (read != 7 || call.number < 0) return std::nullopt;
  for (int i = 0; i < 6; ++i) call.args[i] = args[i];
  return call;
}

// True if this system can show which system call a thread is blocked in (Linux with /proc and
// the syscall file; a thread may always read its own process's). Where it cannot, the probes
// below answer false, so a test that holds a call until one says true falls back on its bound.
inline bool syscall_probe_works() {
  std::ifstream file("/proc/self/task/" + std::to_string(this_thread_tid()) + "/syscall");
  std::string line;
  return static_cast<bool>(std::getline(file, line)) && !line.empty();
}

// True if thread `waiter` is blocked joining `thread` (std::thread::native_handle()): glibc's
// pthread_join (and so std::thread::join, std::jthread's destructor, and the wait of a
// std::async future) blocks in futex() on the kernel-id word inside the thread descriptor that
// pthread_t points to (at offset 0x2d0 in glibc 2.36 on x86-64, plain and under
// ThreadSanitizer). Nothing else blocks on an address there, so the first KiB of the
// descriptor identifies the thread being joined.
inline bool waits_to_join(pid_t waiter, pthread_t thread) {
  constexpr std::uintptr_t kDescriptorSpan = 1024;
  static_assert(sizeof(pthread_t) == sizeof(std::uintptr_t));
  std::uintptr_t descriptor = 0;
  std::memcpy(&descriptor, &thread, sizeof descriptor);
  const auto call = blocked_syscall(waiter);
  if (!call || call->number != SYS_futex) return false;
  return call->args[0] >= descriptor && call->args[0] < descriptor + kDescriptorSpan;
}

// True if thread `tid` is blocked in a sleep (nanosleep or clock_nanosleep: what
// std::this_thread::sleep_for and sleep_until end in). Nothing but the clock ends such a sleep:
// no notify, no stop request.
inline bool sleeps(pid_t tid) {
  const auto call = blocked_syscall(tid);
  if (!call) return false;
#ifdef SYS_nanosleep
  if (call->number == SYS_nanosleep) return true;
#endif
  return call->number == SYS_clock_nanosleep;
}

// What a thread was doing when looked at, as far as sleeping goes: a thread that waits for an
// event should be blocked in futex (where std::condition_variable, std::mutex, a join and a
// std::future wait), where only the event wakes it.
enum class Activity {
  kAsleepInFutex,  // blocked in futex
  kNotStarted,     // the id is 0: the thread never said which it was
  kEnded,          // no longer in /proc/self/task
  kSleeping,       // in a sleep (sleeps() above): only the clock ends it
  kRunning,        // running on a core, or ready to
  kInOtherCall,    // blocked in another system call (or blocked outside one)
};

// What thread `tid` of this process is doing right now (see Activity).
inline Activity activity_of(pid_t tid) {
  if (tid == 0) return Activity::kNotStarted;
  if (!thread_alive(tid)) return Activity::kEnded;
  if (sleeps(tid)) return Activity::kSleeping;
  if (!blocked(tid)) return Activity::kRunning;
  const auto call = blocked_syscall(tid);
  return call && call->number == SYS_futex ? Activity::kAsleepInFutex : Activity::kInOtherCall;
}

// The kata's questions for a thread that should sleep but does not, one for each way it can
// fail: what the learner's code most likely does in that case.
struct NotAsleepQuestions {
  std::string if_sleeping;  // "does next() sleep a little and look again?"
  std::string if_running;   // "does get() look at its result again and again?"
};

// Empty if thread `tid` is asleep in futex; otherwise what it was doing, in words, ending with
// the caller's question for that case: "it was in a sleep (std::this_thread::sleep_for), which
// nothing can cut short: <if_sleeping>". Meant to be polled (testkit::eventually) until it
// answers empty, for a bound: the words assume that the test looked more than once.
inline std::string why_not_asleep(pid_t tid, const NotAsleepQuestions& ask) {
  switch (activity_of(tid)) {
    case Activity::kAsleepInFutex:
      return "";
    case Activity::kNotStarted:
      return "it had not started";
    case Activity::kEnded:
      return "it had ended";
    case Activity::kSleeping:
      return "it was in a sleep (std::this_thread::sleep_for), which nothing can cut short: " +
             ask.if_sleeping;
    case Activity::kRunning:
      return "it was running on a core (or ready to) every time the test looked: " + ask.if_running;
    case Activity::kInOtherCall:
      break;
  }
  const auto call = blocked_syscall(tid);
  return "it was blocked in system call " +
         (call ? std::to_string(call->number) : std::string("(unknown)")) +
         ", not in a condition variable's wait";
}

}  // namespace testkit
