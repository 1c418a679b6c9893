// Kata 05a · A process pool: pre-forked workers, an ordered map, a crashed worker replaced
// Lesson: lessons/05-process-pools/README.md#pre-forked-workers-fed-over-pipes
//
// ProcessPool(n, task) forks n workers once; each runs `task` (bytes in, bytes out) on the
// inputs it reads from its pipe: Python's multiprocessing.Pool(n) with pool.map(task, inputs).
// The forking, the worker's loop and the frames on the pipes are given; write map() and join():
//   - map(inputs) keeps every worker busy at once and returns the results in input order. A
//     task that throws fails its input with a TaskError.
//   - A worker that dies in the middle of a task (a signal, an exit) fails that input with a
//     BrokenPoolError; the dead worker is reaped and a new one takes its place. map finishes
//     every other input first, then throws the first failure in input order.
//   - close() tells every worker to leave; join() waits for each and reaps it; ~ProcessPool()
//     does both. map after close throws std::logic_error.
//
// Grade it: make test KATA=05a        Stuck? make hint KATA=05a
#pragma once

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "wire.hpp"  // frames on pipes and encode/decode, given (support/wire.hpp)

namespace kata {

// A worker died while it ran input `input()` (Python: BrokenProcessPool).
class BrokenPoolError : public std::runtime_error {
 public:
  BrokenPoolError(std::size_t input, pid_t worker, int signal, int exit_code)
      : std::runtime_error(describe(input, worker, signal, exit_code)),
        input_(input),
        worker_(worker),
        signal_(signal),
        exit_code_(exit_code) {}

  std::size_t input() const { return input_; }  // the index of the input that was running
  pid_t worker() const { return worker_; }      // the pid of the worker that died
  int signal() const { return signal_; }        // the signal that killed it, 0 if it exited
  int exit_code() const { return exit_code_; }  // its exit code when it exited, else -1

 private:
  static std::string describe(std::size_t input, pid_t worker, int signal, int exit_code) {
    const std::string how = signal != 0 ? "was killed by signal " + std::to_string(signal) + " (" +
                                              strsignal(signal) + ")"
                                        : "exited with code " + std::to_string(exit_code);
    return "broken pool: worker " + std::to_string(worker) + " " + how + " while it ran input " +
           std::to_string(input) + "; the pool replaced it";
  }

  std::size_t input_;
  pid_t worker_;
  int signal_;
  int exit_code_;
};

// The task threw while it ran input `input()`; what() is the exception's what() (Python
// re-raises the task's own exception; only its message crosses the pipe here).
class TaskError : public std::runtime_error {
 public:
  TaskError(std::size_t input, const std::string& message)
      : std::runtime_error(message), input_(input) {}
  std::size_t input() const { return input_; }

 private:
  std::size_t input_;
};

// Given, and correct: the worker's side, the pipes' protocol and reaping.
namespace detail {

using Task = std::function<std::string(const std::string&)>;

// A request is one frame holding the input. A reply is one frame holding a byte (1: the task
// returned, 0: it threw) and then the result's bytes or the exception's message.
struct Reply {
  bool ok = false;
  std::string bytes;
};

// The worker's loop: read an input, run the task, send the reply, until end of file on the
// request pipe (the pool has closed it); then leave with _exit, as every forked child must.
[[noreturn]] inline void serve(const Task& task, int requests, int replies) {
  for (;;) {
    std::optional<std::string> input;
    try {
      input = wire::read_frame(requests);
    } catch (...) {
      _exit(1);
    }
    if (!input) _exit(0);  // end of file: the pool said goodbye
    wire::Writer reply;
    try {
      std::string result = task(*input);
      reply.put(std::uint8_t{1}).put(result);
    } catch (const std::exception& error) {
      reply.put(std::uint8_t{0}).put(std::string(error.what()));
    } catch (...) {
      reply.put(std::uint8_t{0}).put(std::string("the task threw something not a std::exception"));
    }
    try {
      wire::write_frame(replies, reply.bytes());
    } catch (...) {
      _exit(1);  // nobody reads any more
    }
  }
}

// Sends one input to a worker. False when the worker cannot get it (it is gone, or fd is not
// an open pipe).
inline bool send(int fd, const std::string& input) {
  try {
    wire::write_frame(fd, input);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// Waits for a worker's reply. std::nullopt when the worker is gone: its reply pipe reached end of
// file, before a reply or in the middle of one.
inline std::optional<Reply> receive(int fd) {
  try {
    std::optional<std::string> frame = wire::read_frame(fd);
    if (!frame) return std::nullopt;
    wire::Reader reader(*frame);
    Reply reply;
    reply.ok = reader.get<std::uint8_t>() == 1;
    reply.bytes = reader.get<std::string>();
    return reply;
  } catch (const wire::WireError&) {
    return std::nullopt;
  }
}

// How a child ended.
struct Ending {
  int signal = 0;      // the signal that killed it, 0 if it exited
  int exit_code = -1;  // its exit code, when it exited
};

// Blocks until child `pid` has ended, reaps it and says how it ended.
inline Ending reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  Ending ending;
  if (WIFEXITED(status)) ending.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) ending.signal = WTERMSIG(status);
  return ending;
}

// Closes fd (when open) and marks it closed.
inline void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace detail

class ProcessPool {
 public:
  using Task = detail::Task;

  // Forks `workers` workers, each running `task` on the inputs it is sent.
  ProcessPool(std::size_t workers, Task task) : task_(std::move(task)) {
    if (workers == 0) throw std::invalid_argument("a ProcessPool needs at least one worker");
    workers_.reserve(workers);
    try {
      for (std::size_t i = 0; i < workers; ++i) workers_.push_back(start_worker());
    } catch (...) {  // fork() failed: end the workers already started
      close();
      join();
      throw;
    }
  }

  ProcessPool(const ProcessPool&) = delete;
  ProcessPool& operator=(const ProcessPool&) = delete;

  ~ProcessPool() {
    close();
    try {
      join();
    } catch (...) {  // waitpid failed: nothing left to do in a destructor
    }
  }

  // Runs the task on every input, in the workers, and returns the results in input order.
  // Throws the first failure in input order (TaskError, BrokenPoolError) once every input has
  // been dealt with; std::logic_error once the pool is closed. Call it from one thread at a time.
  std::vector<std::string> map(const std::vector<std::string>& inputs) {
    // TODO: Python refuses work once the pool is closed ("Pool not running"). What happens here?
    std::vector<std::string> results;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      // TODO: every input goes to worker 0, one after the other, while the other workers wait
      //       for work that never comes. How can every worker have an input at once? (poll()
      //       tells which reply pipes have something to read.) And where does each result go
      //       when the replies come back in another order than the inputs went out?
      Worker& worker = workers_[0];
      if (!detail::send(worker.requests, inputs[i])) {
        throw std::runtime_error("could not send input " + std::to_string(i) + " to worker 0");
      }
      std::optional<detail::Reply> reply = detail::receive(worker.replies);
      // TODO: no reply means that the worker is gone (killed by a signal, say). What should the
      //       caller hear about it, what becomes of the dead process, and who does its work now?
      if (!reply) throw std::runtime_error("worker 0 sent no reply");
      // TODO: once several inputs are in flight, can map() still stop at the first failure?
      if (!reply->ok) throw TaskError(i, reply->bytes);
      results.push_back(std::move(reply->bytes));
    }
    return results;
  }

  // No more work: every worker reads end of file and leaves. Returns at once.
  void close() {
    closed_ = true;
    for (Worker& worker : workers_) {
      detail::close_fd(worker.requests);
      detail::close_fd(worker.replies);
    }
  }

  // Waits until every worker has ended, and reaps it. Refuses to wait on an open pool: its
  // workers would wait for more work forever.
  void join() {
    if (!closed_) throw std::logic_error("join() before close(): the pool is still running");
    // TODO: close() told every worker to leave, and each one does. Is that all a parent owes
    //       the children it forked?
    workers_.clear();
  }

  // How many workers the pool has (0 once joined).
  std::size_t size() const { return workers_.size(); }

 private:
  struct Worker {
    pid_t pid = -1;
    int requests = -1;  // the parent's write end of the worker's request pipe
    int replies = -1;   // the parent's read end of the worker's reply pipe
  };

  // Given: forks one worker with a request pipe and a reply pipe of its own.
  Worker start_worker() {
    int requests[2];
    int replies[2];
    if (pipe(requests) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    if (pipe(replies) != 0) {
      const int error = errno;
      ::close(requests[0]);
      ::close(requests[1]);
      throw std::system_error(error, std::generic_category(), "pipe");
    }
    const pid_t pid = fork();
    if (pid < 0) {
      const int error = errno;
      for (int fd : {requests[0], requests[1], replies[0], replies[1]}) ::close(fd);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      // The worker reads requests and writes replies. It closes the other two ends, and every
      // pipe end of the workers forked before it (copied from the parent by fork()): a reply
      // pipe's write end held by a sibling would keep end of file away from the parent when
      // its worker dies, and a request pipe's from the worker when the pool closes.
      ::close(requests[1]);
      ::close(replies[0]);
      for (const Worker& sibling : workers_) {
        if (sibling.requests >= 0) ::close(sibling.requests);
        if (sibling.replies >= 0) ::close(sibling.replies);
      }
      detail::serve(task_, requests[0], replies[1]);
    }
    ::close(requests[0]);
    ::close(replies[1]);
    return Worker{pid, requests[1], replies[0]};
  }

  Task task_;
  std::vector<Worker> workers_;
  bool closed_ = false;
};

}  // namespace kata
