// Kata 02d · Count across processes in shared memory
// Lesson: lessons/02-processes/README.md#shared-memory
//
// Make SharedCounter a counter that the parent and the children it forks all see and change
// together, like multiprocessing.Value in Python. Every child's add() must reach the parent,
// and none may be lost when several processes add at the same time. count_in_processes() is
// given and correct: it forks the children, lets each add 1 many times, waits for them.
//
// Grade it: make test KATA=02d        Stuck? make hint KATA=02d
#pragma once

#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace kata {

// A counter shared by this process and every child it forks after creating the counter.
class SharedCounter {
 public:
  // TODO: the count lives in this process's own memory. After fork() each child has a private
  // copy of it, so whatever the children add, the parent never sees. Where must it live instead?
  SharedCounter() = default;
  ~SharedCounter() = default;
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  void add(long n) { count_ += n; }
  long value() const { return count_; }

 private:
  long count_ = 0;
};

// Given: forks `processes` children; each calls counter.add(1) `increments` times and ends with
// _exit(0). Waits for all of them and returns the total the parent sees.
inline long count_in_processes(int processes, long increments) {
  SharedCounter counter;  // created before the forks, so every child shares it
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      for (pid_t child : children) waitpid(child, nullptr, 0);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      for (long i = 0; i < increments; ++i) counter.add(1);
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t child : children) {
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  return counter.value();
}

}  // namespace kata
