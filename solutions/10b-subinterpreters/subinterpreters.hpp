// Kata 10b · Subinterpreters: a GIL for each, and values that cross as copies
// Lesson: lessons/10-beyond-the-gil/README.md#subinterpreters-one-gil-per-interpreter
//
// Since Python 3.12 each interpreter in a process can have a GIL of its own (PEP 684), and 3.14
// lets Python code start them (PEP 734): threads of two interpreters run at once, threads of one
// still take turns, and values cross between interpreters only as copies, through queues. As
// written, every Interpreter uses the process's one GIL, and Queue hands over a pointer to the
// sender's own object. Give each interpreter its own GIL; make put() keep only bytes
// (wire::encode, as Python pickles) and get() rebuild the value from them (wire::decode).
//
// Grade it: make test KATA=10b        Stuck? make hint KATA=10b
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gil.hpp"
#include "interpreter.hpp"
#include "wire.hpp"

namespace kata {

// The process's GIL: all there was before Python 3.12.
inline support::Gil& process_gil() {
  static support::Gil gil(support::GilKind::Modern, std::chrono::milliseconds(1));
  return gil;
}

// One interpreter: its threads run their programs under its GIL.
class Interpreter {
 public:
  Interpreter() : first_thread_id_(next_first_thread_id()) {}
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Its own GIL (PEP 684): threads of other interpreters never wait for it.
  support::Gil& gil() { return gil_; }

  // Runs program i on thread i of this interpreter, all at once (the toy interpreter of lesson
  // 09); returns when all have finished. on_unit(thread) runs inside every unit of bytecode.
  void run(const std::vector<support::Program>& programs,
           std::function<void(int thread)> on_unit = {}) {
    support::Interpreter(gil(), std::move(on_unit), first_thread_id_).run(programs);
  }

 private:
  // Thread ids unique in the process, as CPython's thread states are: 1000 per interpreter.
  static support::Gil::ThreadId next_first_thread_id() {
    static std::atomic<support::Gil::ThreadId> next{0};
    return next.fetch_add(1000);
  }

  support::Gil gil_{support::GilKind::Modern, std::chrono::milliseconds(1)};
  const support::Gil::ThreadId first_thread_id_;
};

// A queue between interpreters: put() in one, get() in another, as concurrent.interpreters'
// Queue. Takes the values wire::Writer can encode: integers, std::string, std::vector of these.
class Queue {
 public:
  template <wire::Encodable T>
  void put(const T& value) {
    std::lock_guard lock(mutex_);
    // A copy, made now: the sender may change or destroy its object as soon as put() returns.
    items_.push_back(wire::encode(value));
    ready_.notify_one();
  }

  // Waits for the oldest item and takes it out.
  template <wire::Encodable T>
  T get() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty(); });
    auto item = std::move(items_.front());
    items_.pop_front();
    return wire::decode<T>(item);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> items_;  // each value as bytes: a copy nobody else can reach
};

}  // namespace kata
