// Kata 02b · Send large results from children through pipes
// Lesson: lessons/02-processes/README.md#pipes
//
// Run each body in a child process of its own and bring back the bytes it returns (up to
// megabytes) through a pipe, one pipe per child. Return every child's bytes, intact and in the
// order of the bodies, with how the child ended. This starter hangs: find out why. Two classic
// mistakes are in it: a pipe end that nobody closes, and a wait at the wrong moment.
//
// Grade it: make test KATA=02b        Stuck? make hint KATA=02b
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace kata {

// What one child sent back, and how it ended.
struct ChildResult {
  pid_t pid = -1;
  bool exited = false;   // ended normally; see exit_code
  int exit_code = -1;    // 0 when the result was sent, 1 when the body threw
  int signal = 0;        // the signal that ended it, when !exited
  std::string output{};  // every byte the child sent
};

// Given, and correct: small helpers for file descriptors and wait statuses.
namespace detail {

// write() may write less than asked; keep going until everything is written.
inline bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads until end of file. On a pipe, end of file comes only once every write end of that pipe,
// in every process, is closed; until then read() waits for more data.
inline std::string read_all(int fd) {
  std::string data;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) return data;  // end of file
    data.append(buffer, static_cast<std::size_t>(n));
  }
}

// Blocks until the child has ended, reaps it and records how it ended.
inline void wait_for(ChildResult& child) {
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  if (WIFEXITED(status)) {
    child.exited = true;
    child.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    child.signal = WTERMSIG(status);
  }
}

}  // namespace detail

inline std::vector<ChildResult> run_and_collect(
    const std::vector<std::function<std::string()>>& bodies) {
  std::vector<ChildResult> results;
  std::vector<int> read_ends;  // read_ends[i] is where child i's bytes arrive
  results.reserve(bodies.size());
  read_ends.reserve(bodies.size());
  for (const auto& body : bodies) {
    int ends[2];
    if (pipe(ends) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    const int read_end = ends[0];
    const int write_end = ends[1];
    pid_t pid = fork();
    if (pid < 0) {
      // Out of processes. Closing the read ends makes children still writing fail (EPIPE),
      // so they end; then reap them all and report.
      const int error = errno;
      close(read_end);
      close(write_end);
      for (int fd : read_ends) close(fd);
      for (auto& started : results) detail::wait_for(started);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      // Here we are the child. It only writes: close its copy of the read end, and the read
      // ends of the earlier children's pipes, which the parent still held at fork().
      close(read_end);
      for (int earlier : read_ends) close(earlier);
      std::string output;
      try {
        output = body();
      } catch (...) {
        _exit(1);
      }
      _exit(detail::write_all(write_end, output) ? 0 : 2);
    }
    // The parent only reads. Close its write end now, before the next fork, so that the child
    // holds the only write end: when the child ends, the parent's read sees end of file. (Left
    // open here, it would also be inherited by every later child and keep EOF away.)
    close(write_end);
    results.push_back(ChildResult{pid});
    read_ends.push_back(read_end);
  }

  for (std::size_t i = 0; i < results.size(); ++i) {
    // Drain first: a child blocks in write() while its pipe (64 KiB) is full, and it cannot
    // end before the parent has read. Only after end of file, wait for (and reap) it.
    results[i].output = detail::read_all(read_ends[i]);
    close(read_ends[i]);
    detail::wait_for(results[i]);
  }
  return results;
}

}  // namespace kata
