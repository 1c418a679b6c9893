// A global interpreter lock as CPython has had it since 3.2 (Python/ceval_gil.c), given solved
// for lessons 09 and 10, with the GIL of Python 3.1 and no GIL at all as contrasts. Kata 09a has
// the learner build the first one; the katas after it build on this one.
//
// The protocol, in CPython's terms (lessons/09-the-gil/README.md tells it step by step):
//   take()   a thread that finds the GIL held waits on a condition variable for one switch
//            interval (5 ms by default, sys.setswitchinterval). If the wait times out while the
//            GIL is still held and no switch happened meanwhile (switch_number unchanged), it
//            sets the drop request ("gil_drop_request") and waits again.
//   check()  the running thread looks at the drop request at its check points (the eval
//            breaker, at loop back edges). If it is set, the thread drops the GIL and, forced
//            switching, waits until another thread has taken it before it competes again.
//   drop()   a voluntary release (around blocking I/O: AllowThreads below) waits for a hand-off
//            only if a drop was requested; otherwise it returns at once.
// Every take by another thread than the last holder counts one switch (switch_number).
//
// GilKind::Ticks is Python 3.1's: every 100 check points the holder releases the lock and takes
// it again at once, with no hand-off, so on a multicore machine it usually wins it back before a
// woken waiter runs. GilKind::Off takes nothing: every thread runs at once (free-threaded
// Python, PEP 703).
//
// One std::mutex stands for CPython's two (mutex and switch_mutex): simpler, and the same
// behaviour for a model. Nothing here is for you to edit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace support {

enum class GilKind {
  Modern,  // CPython >= 3.2: timed waits, drop requests, forced switching
  Ticks,   // CPython <= 3.1: release and re-take every 100 ticks, no hand-off
  Off,     // no GIL
};

class Gil {
 public:
  // A thread is named by a small number of the caller's choosing (CPython uses the thread state).
  using ThreadId = int;
  static constexpr ThreadId kNobody = -1;
  static constexpr int kTicksPerCheck = 100;  // Python 3.1's sys.setcheckinterval default

  struct Stats {
    std::uint64_t switches = 0;       // takes by another thread than the last holder
    std::uint64_t drop_requests = 0;  // times a waiter's interval ran out with no switch
    std::uint64_t forced_drops = 0;   // drops that then waited for another thread to take it
    std::uint64_t waits = 0;          // takes that found the GIL held
  };

  explicit Gil(GilKind kind = GilKind::Modern,
               std::chrono::microseconds interval = std::chrono::milliseconds(5))
      : kind_(kind), interval_(interval) {}

  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

  GilKind kind() const { return kind_; }

  // sys.setswitchinterval: how long a waiter waits before it asks the holder to drop.
  void set_switch_interval(std::chrono::microseconds interval) {
    std::lock_guard lock(mutex_);
    interval_ = interval;
  }

  // Blocks until `thread` holds the GIL.
  void take(ThreadId thread) {
    if (kind_ == GilKind::Off) return;
    std::unique_lock lock(mutex_);
    if (locked_) ++stats_.waits;
    while (locked_) {
      if (kind_ == GilKind::Ticks) {
        released_.wait(lock);
        continue;
      }
      const std::uint64_t switches_before = stats_.switches;
      const bool timed_out = released_.wait_for(lock, interval_) == std::cv_status::timeout;
      if (timed_out && locked_ && stats_.switches == switches_before) {
        drop_request_ = true;
        ++stats_.drop_requests;
      }
    }
    locked_ = true;
    if (last_holder_ != thread) {
      last_holder_ = thread;
      ++stats_.switches;
      switched_.notify_all();  // a forced drop waits for this
    }
    drop_request_ = false;  // whoever asked has it now, or another waiter does
  }

  // Releases the GIL. With a drop request pending (Modern), waits until another thread has taken
  // it: the forced switch that keeps the dropper from winning it straight back.
  void drop(ThreadId thread) {
    if (kind_ == GilKind::Off) return;
    std::unique_lock lock(mutex_);
    locked_ = false;
    released_.notify_one();
    if (kind_ == GilKind::Modern && drop_request_ && last_holder_ == thread) {
      ++stats_.forced_drops;
      switched_.wait(lock, [&] { return last_holder_ != thread; });
    }
  }

  // A check point (the eval breaker at a loop back edge), called by the holder. Returns true if
  // the thread let the GIL go there (and holds it again now).
  bool check(ThreadId thread) {
    switch (kind_) {
      case GilKind::Off:
        return false;
      case GilKind::Ticks:
        if (++ticks_ < kTicksPerCheck) return false;  // only the holder counts: the GIL guards it
        ticks_ = 0;
        break;
      case GilKind::Modern:
        if (!drop_request_.load(std::memory_order_relaxed)) return false;
        break;
    }
    drop(thread);
    take(thread);
    return true;
  }

  // The eval breaker: has a waiter asked the holder to drop?
  bool drop_requested() const { return drop_request_.load(std::memory_order_relaxed); }

  // Whether some thread holds the GIL now (always false with GilKind::Off).
  bool held() const {
    std::lock_guard lock(mutex_);
    return locked_;
  }

  ThreadId last_holder() const {
    std::lock_guard lock(mutex_);
    return last_holder_;
  }

  Stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  const GilKind kind_;
  mutable std::mutex mutex_;
  std::condition_variable released_;  // CPython's gil->cond: the GIL was dropped
  std::condition_variable switched_;  // CPython's gil->switch_cond: another thread took it
  std::chrono::microseconds interval_;
  bool locked_ = false;
  ThreadId last_holder_ = kNobody;
  std::atomic<bool> drop_request_{false};
  int ticks_ = 0;
  Stats stats_;
};

// Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS as a scope: the GIL is dropped for the
// lifetime of the object (around blocking I/O) and taken again when it ends.
class AllowThreads {
 public:
  AllowThreads(Gil& gil, Gil::ThreadId thread) : gil_(gil), thread_(thread) { gil_.drop(thread_); }
  ~AllowThreads() { gil_.take(thread_); }
  AllowThreads(const AllowThreads&) = delete;
  AllowThreads& operator=(const AllowThreads&) = delete;

 private:
  Gil& gil_;
  Gil::ThreadId thread_;
};

}  // namespace support
