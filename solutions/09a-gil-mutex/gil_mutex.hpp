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
#include <condition_variable>
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

  // Blocks until `thread` holds the GIL. The GIL is a flag under a mutex, not the mutex itself:
  // a waiter must be able to wake up after one interval and look at who holds it.
  void take(ThreadId thread) {
    std::unique_lock lock(mutex_);
    while (locked_) {
      const std::uint64_t switches_before = switch_number_;
      const bool timed_out = released_.wait_for(lock, interval_) == std::cv_status::timeout;
      // Ask only if nobody got the GIL meanwhile: a new holder deserves its own interval.
      if (timed_out && locked_ && switch_number_ == switches_before) drop_request_ = true;
    }
    locked_ = true;
    if (last_holder_ != thread) {
      last_holder_ = thread;
      ++switch_number_;
      switched_.notify_all();  // a forced drop waits for this
    }
    drop_request_ = false;
  }

  // Releases the GIL; after a requested drop, waits until another thread has taken it.
  void drop(ThreadId thread) {
    std::unique_lock lock(mutex_);
    locked_ = false;
    released_.notify_one();
    if (drop_request_ && last_holder_ == thread) {
      switched_.wait(lock, [&] { return last_holder_ != thread; });
    }
  }

  // A check point, called by the holder after each unit of bytecode: the eval breaker.
  void check(ThreadId thread) {
    if (!drop_request_) return;
    drop(thread);
    take(thread);
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
  std::condition_variable released_;  // the GIL was dropped
  std::condition_variable switched_;  // another thread took it
  bool locked_ = false;
  std::atomic<bool> drop_request_{false};
  std::atomic<ThreadId> last_holder_{kNobody};
  std::atomic<std::uint64_t> switch_number_{0};
};

}  // namespace kata
