// Kata 09a · A GIL that takes turns: timed waits, a drop request, forced switching
// Lesson: lessons/09-the-gil/README.md#the-protocol-since-python-32
//
// A thread runs bytecode only between take() and drop(), and calls check() at every check point
// (after each unit of bytecode). As written, the GIL is a plain mutex: a thread that holds it and
// keeps computing never lets go, and every other thread waits for ever. Make it CPython's GIL
// since 3.2: a waiter that waits a whole switch interval with no switch meanwhile sets the drop
// request; the holder lets go at its next check() and then, forced switching, waits until
// another thread has taken the GIL before it takes it again. A drop() that nobody asked for
// (around I/O) never waits.
//
// Grade it: make test KATA=09a        Stuck? make hint KATA=09a
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace kata {

class Gil {
 public:
  using ThreadId = int;  // a small number per thread, of the caller's choosing
  static constexpr ThreadId kNobody = -1;

  // interval: how long a waiter waits before it asks the holder to let go (sys.setswitchinterval).
  explicit Gil(std::chrono::microseconds interval = std::chrono::milliseconds(5))
      : interval_(interval) {}

  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

  // Blocks until `thread` holds the GIL.
  void take(ThreadId thread) {
    // TODO: lock() waits as long as it takes, and never tells the holder that anyone waits.
    //       How does a waiter wait one interval at a time, and when may it ask for a drop?
    mutex_.lock();
    if (last_holder_ != thread) {
      last_holder_ = thread;
      ++switch_number_;
    }
  }

  // Releases the GIL.
  void drop(ThreadId thread) {
    // TODO: after a drop that was asked for, this thread may not take the GIL again before
    //       another thread has had it. What does it wait for, and only when?
    (void)thread;
    mutex_.unlock();
  }

  // A check point, called by the holder after each unit of bytecode.
  void check(ThreadId thread) {
    // TODO: the holder never looks whether anyone asked it to let go.
    (void)thread;
  }

  // Has a waiter asked the holder to let go (CPython's gil_drop_request)?
  bool drop_requested() const { return drop_request_; }

  // How many times the GIL went to another thread than its last holder.
  std::uint64_t switch_number() const { return switch_number_; }

  ThreadId last_holder() const { return last_holder_; }

  std::chrono::microseconds switch_interval() const { return interval_; }

 private:
  std::chrono::microseconds interval_;
  std::mutex mutex_;
  std::atomic<bool> drop_request_{false};
  std::atomic<ThreadId> last_holder_{kNobody};
  std::atomic<std::uint64_t> switch_number_{0};
};

}  // namespace kata
