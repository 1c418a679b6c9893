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
    if (closed_) throw std::logic_error("map() on a closed pool (Python: \"Pool not running\")");
    std::vector<std::string> results(inputs.size());
    std::vector<std::exception_ptr> errors(inputs.size());
    std::vector<std::optional<std::size_t>> running(workers_.size());  // the input each one runs
    std::size_t next = 0;       // the first input not sent yet
    std::size_t in_flight = 0;  // inputs sent whose reply has not come

    // Gives worker w the next input. At most one input per worker is in flight: a worker that
    // writes a large reply is never blocked by a parent that is busy writing to it.
    const auto feed = [&](std::size_t w) {
      while (next < inputs.size()) {
        const std::size_t input = next++;
        if (detail::send(workers_[w].requests, inputs[input])) {
          running[w] = input;
          ++in_flight;
          return;
        }
        errors[input] = replace(w, input);  // it died while idle; try its replacement
      }
    };

    for (std::size_t w = 0; w < workers_.size(); ++w) feed(w);
    while (in_flight > 0) {
      std::vector<pollfd> ready;
      std::vector<std::size_t> owner;
      for (std::size_t w = 0; w < workers_.size(); ++w) {
        if (!running[w]) continue;
        ready.push_back(pollfd{workers_[w].replies, POLLIN, 0});
        owner.push_back(w);
      }
      while (poll(ready.data(), ready.size(), -1) < 0) {
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
      }
      for (std::size_t k = 0; k < ready.size(); ++k) {
        if (ready[k].revents == 0) continue;  // POLLIN, or POLLHUP when the worker is gone
        const std::size_t w = owner[k];
        const std::size_t input = *running[w];
        running[w].reset();
        --in_flight;
        std::optional<detail::Reply> reply = detail::receive(workers_[w].replies);
        if (!reply) {
          errors[input] = replace(w, input);
        } else if (reply->ok) {
          results[input] = std::move(reply->bytes);
        } else {
          errors[input] = std::make_exception_ptr(TaskError(input, reply->bytes));
        }
        feed(w);
      }
    }
    for (const std::exception_ptr& error : errors) {
      if (error) std::rethrow_exception(error);
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
    for (Worker& worker : workers_) {
      if (worker.pid > 0) detail::reap(worker.pid);
      worker.pid = -1;
    }
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

  // Worker w died while it held `input`: reap it, start another in its place, and say what
  // happened as the error of that input.
  std::exception_ptr replace(std::size_t w, std::size_t input) {
    Worker& dead = workers_[w];
    detail::close_fd(dead.requests);
    detail::close_fd(dead.replies);
    const pid_t pid = dead.pid;
    const detail::Ending ending = detail::reap(pid);
    dead.pid = -1;
    dead = start_worker();
    return std::make_exception_ptr(BrokenPoolError(input, pid, ending.signal, ending.exit_code));
  }

  Task task_;
  std::vector<Worker> workers_;
  bool closed_ = false;
};

}  // namespace kata
