// The file descriptors a process holds, read from /proc/self/fd: how many, and which are pipe
// ends (read or write end, and which pipe).
//
// Why: a pipe end left open is invisible in a program's results until it hangs one: a write end
// kept by the wrong process keeps end of file away, a read end kept by the wrong process keeps a
// writer from learning that nobody reads. A test that looks at the descriptors a process holds
// sees the mistake on every run, not only on the run where it happens to block.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

namespace testkit {

// How many file descriptors this process has open.
inline int open_descriptor_count() {
  return static_cast<int>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                        std::filesystem::directory_iterator{}));
}

// One end of a pipe this process holds.
struct PipeEnd {
  int fd = -1;
  unsigned long pipe = 0;  // the pipe's inode number: both ends of one pipe share it
  bool read_end = false;   // false: the write end
};

// Every pipe end this process holds, in the order of their descriptors.
inline std::vector<PipeEnd> open_pipe_ends() {
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    fds.push_back(std::stoi(entry.path().filename().string()));
  }
  std::sort(fds.begin(), fds.end());
  std::vector<PipeEnd> ends;
  for (int fd : fds) {
    char target[64] = {};
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    if (readlink(link.c_str(), target, sizeof target - 1) <= 0) continue;  // closed meanwhile
    unsigned long inode = 0;
    if (std::sscanf(target, "pipe:[%lu]", &inode) != 1) continue;  // not a pipe
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0) continue;
    ends.push_back(PipeEnd{fd, inode, (flags & O_ACCMODE) == O_RDONLY});
  }
  return ends;
}

}  // namespace testkit
