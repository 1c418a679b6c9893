// Kata 01a · Attacks at run time
// Not a kata: attacks on the grader, each run by one test of tests/01a-runtime_test.cpp. Every
// attack is bounded so that even without a sandbox or a cgroup it cannot harm the machine: the
// fork bomb stops at 2000 children, the memory hog at 1 GiB, and the attack on other processes
// runs only inside bubblewrap's PID namespace.
#pragma once

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hostile {

inline void fork_bomb() {
  for (int i = 0; i < 2000; ++i)
    if (fork() == 0) {
      pause();
      _exit(0);
    }
}

// A child in a session of its own, out of the test's process group, meant to outlive it.
inline std::string setsid_escapee() {
  if (fork() == 0) {
    setsid();
    prctl(PR_SET_NAME, "hostile-escape");
    sleep(300);
    _exit(0);
  }
  return "a child escaped with setsid()";
}

inline std::string memory_hog() {
  std::vector<char*> blocks;
  for (int i = 0; i < 128; ++i) {  // 128 x 8 MB = 1 GiB, every page touched
    blocks.push_back(static_cast<char*>(std::malloc(8 << 20)));
    std::memset(blocks.back(), 1, 8 << 20);
  }
  pause();
  return "1 GiB allocated";
}

inline void spin() {
  for (volatile unsigned long i = 0;; i = i + 1) {
  }
}

inline void wait_forever() {
  std::mutex m;
  std::condition_variable never;
  std::unique_lock lock(m);
  never.wait(lock, [] { return false; });
}

// Two threads take two locks in opposite orders, each after the other has its first.
inline void deadlock() {
  std::mutex a, b;
  std::latch both_hold_one(2);
  std::thread t([&] {
    std::lock_guard first(b);
    both_hold_one.arrive_and_wait();
    std::lock_guard second(a);
  });
  {
    std::lock_guard first(a);
    both_hold_one.arrive_and_wait();
    std::lock_guard second(b);
  }
  t.join();
}

inline void flood() {
  for (;;)
    std::fputs("flood flood flood flood flood flood flood flood flood flood flood\n", stdout);
}

// A sparse 1 GiB report file where GoogleTest's report goes, then an exit before GoogleTest can
// write the real one.
inline std::string huge_report() {
  const char* where = std::getenv("GTEST_OUTPUT");
  if (where == nullptr) return "no report path";
  const int fd = open(where + 5, O_WRONLY | O_CREAT, 0644);  // after "json:"
  if (fd >= 0 && lseek(fd, 1L << 30, SEEK_SET) > 0) (void)!write(fd, "x", 1);
  _exit(0);
}

inline std::string segfault() {
  volatile int* nowhere = nullptr;
  *nowhere = 1;
  return "still alive";
}

inline void abort_now() { std::abort(); }

inline void exit_zero() { std::exit(0); }

// kill(getppid()) stopped or killed the grader; as root, kill(-1) through a raw system call (no
// guard sees it) would kill every process on the machine. Only inside the sandbox, whose PID
// namespace has bwrap as process 1, can this be tried without harm.
inline std::string signal_the_grader() {
  std::ifstream comm("/proc/1/comm");
  std::string init;
  comm >> init;
  if (init != "bwrap") return "not in a sandbox, so not tried";
  kill(getppid(), SIGSTOP);
  kill(getppid(), SIGKILL);
  syscall(SYS_kill, -1, SIGKILL);
  return "signals sent";
}

// Writes a report that says PASS where GoogleTest's report goes (its path read from the command
// line, else the environment), then exits before GoogleTest can write the real one.
inline std::string forge_report() {
  std::ifstream cmdline("/proc/self/cmdline");
  std::string arg, path;
  while (std::getline(cmdline, arg, '\0'))
    if (arg.rfind("--gtest_output=json:", 0) == 0) path = arg.substr(20);
  if (path.empty() && std::getenv("GTEST_OUTPUT") != nullptr)
    path = std::string(std::getenv("GTEST_OUTPUT")).substr(5);
  std::ofstream(path) << R"({"testsuites": [{"name": "Runtime", "testsuite": [{"name": )"
                      << R"("ForgeReport", "status": "RUN", "result": "COMPLETED"}]}]})";
  _exit(0);
}

}  // namespace hostile
