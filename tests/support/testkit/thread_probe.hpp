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

}  // namespace testkit
