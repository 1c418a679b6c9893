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
  for (const auto& body : bodies) {
    int ends[2];
    if (pipe(ends) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    const int read_end = ends[0];
    const int write_end = ends[1];
    pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      // Here we are the child: run the body, send its bytes, leave.
      std::string output;
      try {
        output = body();
      } catch (...) {
        _exit(1);
      }
      _exit(detail::write_all(write_end, output) ? 0 : 2);
    }
    // TODO: parent and child now both hold both ends of this pipe (and the child also holds
    // whatever the parent held at fork(): the read ends of the earlier children's pipes).
    // Which ones does each of them still need?
    results.push_back(ChildResult{pid});
    read_ends.push_back(read_end);
  }

  for (std::size_t i = 0; i < results.size(); ++i) {
    // TODO: is this the right moment to wait for the child?
    detail::wait_for(results[i]);
    results[i].output = detail::read_all(read_ends[i]);
    close(read_ends[i]);
  }
  return results;
}

}  // namespace kata
