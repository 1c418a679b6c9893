// A toy interpreter whose "bytecode" runs under support::Gil, with a trace of what each thread
// did when: the laboratory of lessons 09 and 10. Nothing here is for you to edit.
//
// A program is a list of instructions: Cpu{n} runs n units of bytecode (a few microseconds of
// arithmetic each) with a check point after every unit, as CPython's eval loop checks its eval
// breaker at loop back edges; Io{...} blocks with the GIL released (Py_BEGIN_ALLOW_THREADS), for
// a duration or in a call of the caller's. A Cpu run may also end early on a flag (a CPU-bound
// thread that runs for as long as another thread is busy). Interpreter::run starts one thread per
// program and records, per thread, spans of running bytecode, waiting for the GIL and doing I/O.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "gil.hpp"

namespace support {

using TraceClock = std::chrono::steady_clock;

enum class ThreadState { Running, WaitingForGil, InIo };

struct Span {
  int thread;
  ThreadState state;
  TraceClock::time_point start;
  TraceClock::time_point end;
};

// The spans of a run, from every thread (added under a lock; read after the run).
class Trace {
 public:
  void add(const Span& span) {
    if (span.end <= span.start) return;
    std::lock_guard lock(mutex_);
    spans_.push_back(span);
  }

  std::vector<Span> spans() const {
    std::lock_guard lock(mutex_);
    return spans_;
  }

  // How long `thread` spent in `state` in all.
  std::chrono::nanoseconds total(int thread, ThreadState state) const {
    std::lock_guard lock(mutex_);
    std::chrono::nanoseconds sum{0};
    for (const Span& s : spans_) {
      if (s.thread == thread && s.state == state) sum += s.end - s.start;
    }
    return sum;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Span> spans_;
};

struct Cpu {
  int units;
  const std::atomic<bool>* stop = nullptr;  // if set, the run also ends once it is true
};

struct Io {
  std::chrono::microseconds duration{0};
  std::function<void()> call;  // if set, the I/O is this call instead of a sleep
};

using Instruction = std::variant<Cpu, Io>;
using Program = std::vector<Instruction>;

// One unit of bytecode: arithmetic the compiler cannot drop, a few microseconds at -O0.
inline void bytecode_unit() {
  volatile unsigned x = 0;
  for (unsigned i = 0; i < 2000; ++i) x = x + i;
}

class Interpreter {
 public:
  // `on_unit`, if given, runs inside every unit of bytecode (with the GIL held, when there is
  // one), after the arithmetic: tests put probes there. Thread i is known to the GIL as
  // first_id + i (several interpreters that share one GIL must not share thread ids).
  explicit Interpreter(Gil& gil, std::function<void(int thread)> on_unit = {},
                       Gil::ThreadId first_id = 0)
      : gil_(gil), on_unit_(std::move(on_unit)), first_id_(first_id) {}

  // Runs program i on thread i, all started together; returns when every one has finished.
  void run(const std::vector<Program>& programs) {
    std::vector<std::thread> threads;
    threads.reserve(programs.size());
    for (std::size_t i = 0; i < programs.size(); ++i) {
      threads.emplace_back([this, &programs, i] { run_one(static_cast<int>(i), programs[i]); });
    }
    for (auto& t : threads) t.join();
  }

  const Trace& trace() const { return trace_; }

 private:
  void run_one(int thread, const Program& program) {
    const Gil::ThreadId id = first_id_ + thread;
    auto since = TraceClock::now();
    gil_.take(id);
    auto now = TraceClock::now();
    trace_.add({thread, ThreadState::WaitingForGil, since, now});
    since = now;
    for (const Instruction& instruction : program) {
      if (const Cpu* cpu = std::get_if<Cpu>(&instruction)) {
        for (int unit = 0; unit < cpu->units && !(cpu->stop && cpu->stop->load()); ++unit) {
          bytecode_unit();
          if (on_unit_) on_unit_(thread);
          const auto before_check = TraceClock::now();
          if (gil_.check(id)) {  // it let the GIL go: running until then, waiting since
            now = TraceClock::now();
            trace_.add({thread, ThreadState::Running, since, before_check});
            trace_.add({thread, ThreadState::WaitingForGil, before_check, now});
            since = now;
          }
        }
      } else {
        const Io& io = std::get<Io>(instruction);
        now = TraceClock::now();
        trace_.add({thread, ThreadState::Running, since, now});
        TraceClock::time_point io_end;
        {
          AllowThreads released(gil_, id);
          if (io.call) {
            io.call();
          } else {
            std::this_thread::sleep_for(io.duration);
          }
          io_end = TraceClock::now();
        }  // takes the GIL again
        since = TraceClock::now();
        trace_.add({thread, ThreadState::InIo, now, io_end});
        trace_.add({thread, ThreadState::WaitingForGil, io_end, since});
      }
    }
    trace_.add({thread, ThreadState::Running, since, TraceClock::now()});
    gil_.drop(id);
  }

  Gil& gil_;
  std::function<void(int)> on_unit_;
  Gil::ThreadId first_id_;
  Trace trace_;
};

}  // namespace support
