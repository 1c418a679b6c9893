// Kata 06c · A bounded queue between producers and consumers, like Python's queue.Queue
// Lesson: lessons/06-shared-state/README.md#condition-variables
//
// push() waits while the queue is full, pop() while it is empty, and close() ends the
// exchange: after it, push() refuses, and pop() hands out what is left and then std::nullopt.
// As written, each wait is an `if`: a wait that comes back with nothing to take (or no room),
// which the standard allows, is taken for a state change. And close() wakes only one waiting
// pop() and no waiting push(). Make every wait hold until its condition does, and close() wake
// every waiting caller.
//
// Grade it: make test KATA=06c        Stuck? make hint KATA=06c
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace kata {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // Waits while the queue holds `capacity` items, then adds `value` at the back and returns
  // true. Returns false, and drops `value`, if the queue is closed (also if it closes while
  // push() waits).
  bool push(T value) {
    std::unique_lock lock(mutex_);
    // TODO: an `if` waits once, and a wait may come back while the queue is still full.
    if (items_.size() >= capacity_ && !closed_) not_full_.wait(lock);
    if (closed_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  // Waits while the queue is empty and open; returns the item at the front, or std::nullopt
  // once the queue is closed and empty.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    // TODO: an `if` waits once, and a wait may come back while the queue is still empty.
    if (items_.empty() && !closed_) not_empty_.wait(lock);
    if (items_.empty()) return std::nullopt;  // closed, and nothing left
    T value = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return value;
  }

  // No more pushes. Items already in the queue can still be popped.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    // TODO: this wakes one waiting pop(); every other waiting pop() and push() sleeps on.
    not_empty_.notify_one();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;                   // guards everything below
  std::condition_variable not_empty_;  // pop() waits here
  std::condition_variable not_full_;   // push() waits here
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace kata
