// A process's state letter and parent, read from its /proc/<pid>/stat.
//
// Why: "is this process still running, a zombie, or gone?" and "is it my child?" are what the
// process helpers (children.hpp, process.hpp, guard_kill.cpp) ask the kernel; the one line they
// read has a name field that may hold spaces and ')', so it is parsed in one place only.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace testkit {

struct ProcStat {
  char state = 0;    // R running, S sleeping, Z zombie, ...; 0: the process is gone
  long parent = 0;   // its parent's pid
  std::string name;  // the program's name as the kernel keeps it (at most 15 characters)
};

// Reads "stat" relative to the open directory `dir` (a /proc/<pid> directory; AT_FDCWD when
// `path` is absolute). Returns state 0 when the process is gone or the file unreadable.
inline ProcStat read_proc_stat(int dir, const char* path) {
  ProcStat stat;
  const int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return stat;
  char buffer[512];
  const ssize_t n = read(fd, buffer, sizeof buffer - 1);
  close(fd);
  if (n <= 0) return stat;
  buffer[n] = '\0';
  // Format: pid (name) state ppid ...; the name may hold spaces and ')': parse after the last ')'.
  const char* open_paren = std::strchr(buffer, '(');
  const char* close_paren = std::strrchr(buffer, ')');
  if (open_paren == nullptr || close_paren == nullptr || close_paren < open_paren ||
      std::sscanf(close_paren + 1, " %c %ld", &stat.state, &stat.parent) != 2) {
    return ProcStat{};
  }
  stat.name.assign(open_paren + 1, close_paren);
  return stat;
}

// The same for process `pid`.
inline ProcStat read_proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  return read_proc_stat(AT_FDCWD, path);
}

}  // namespace testkit
