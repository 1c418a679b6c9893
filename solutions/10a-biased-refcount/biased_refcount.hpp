// Kata 10a · Biased reference counting: the owner counts alone, other threads share a count
// Lesson: lessons/10-beyond-the-gil/README.md#biased-reference-counting
//
// An Object counts its references, and any thread may call incref() and decref(). As written,
// every thread changes one plain long: a data race as soon as two threads do. Count as
// free-threaded CPython does (PEP 703): the owner (the thread that made the object) in a plain
// local count, every other thread in an atomic shared count. When the owner's count reaches 0 it
// merges the two. A reference the owner counted but another thread drops goes, with the object,
// to the owner's MergeQueue; the owner merges it there. Free the object once, when none is left.
//
// Grade it: make test KATA=10a        Stuck? make hint KATA=10a
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace kata {

class Object;

// One per thread that makes objects: other threads push here the objects whose shared count they
// would have taken below zero, and the owner merges them when it next looks (CPython's eval
// breaker). Nothing here is for you to edit.
class MergeQueue {
 public:
  MergeQueue() = default;  // owned by the thread that constructs it
  MergeQueue(const MergeQueue&) = delete;
  MergeQueue& operator=(const MergeQueue&) = delete;

  // Any thread: asks the owner to merge `object`. The queue holds one reference to it until then.
  void push(Object& object) {
    std::lock_guard lock(mutex_);
    pending_.push_back(&object);
  }

  // The owner only: merges every object queued so far (Object::merge_queued) and says how many.
  std::size_t merge_all();

  // How many objects wait to be merged.
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  const std::thread::id owner_ = std::this_thread::get_id();
  mutable std::mutex mutex_;
  std::vector<Object*> pending_;
};

// An object with a biased reference count. It starts with one reference, its creator's.
class Object {
 public:
  // owner_queue: the merge queue of the thread that creates the object (its owner).
  // on_free: called once, when the last reference is gone.
  Object(MergeQueue& owner_queue, std::function<void()> on_free)
      : owner_queue_(owner_queue), on_free_(std::move(on_free)) {}

  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // Adds a reference, from any thread.
  void incref() {
    if (owned_by_me()) {
      ++local_;  // no other thread ever touches local_: no atomic operation needed
    } else {
      shared_.fetch_add(kOne, std::memory_order_relaxed);
    }
  }

  // Drops a reference, from any thread.
  void decref() {
    if (owned_by_me()) {
      if (--local_ == 0) merge(0);
      return;
    }
    long word = shared_.load(std::memory_order_relaxed);
    long next = 0;
    bool queue = false;
    do {
      // A count of 0 in the default state: the reference being dropped was counted by the owner.
      // Do not subtract it: hand it to the owner's queue, which drops it when it merges.
      queue = word == 0;
      next = queue ? kQueued : word - kOne;
    } while (!shared_.compare_exchange_weak(word, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
    if (queue) {
      owner_queue_.push(*this);
    } else if (next == kMerged) {
      on_free_();  // merged and no reference left
    }
  }

  // Called by the owner's MergeQueue::merge_all(): merges the counts and drops the reference the
  // queue held.
  void merge_queued() { merge(-1); }

  // True on the thread that owns the object, until the counts are merged.
  bool owned_by_me() const {
    return owner_.load(std::memory_order_relaxed) == std::this_thread::get_id();
  }

  // The owner's count (0 once merged). Read it on the owner's thread, or after it has joined.
  long local_count() const { return local_; }

  // The count of the shared word (the whole count once merged; below 0 while queued).
  long shared_count() const { return count_of(shared_.load(std::memory_order_acquire)); }

  bool merged() const { return state_of(shared_.load(std::memory_order_acquire)) == kMerged; }
  bool queued() const { return state_of(shared_.load(std::memory_order_acquire)) == kQueued; }

 private:
  // The owner gives up ownership: from now on every thread counts in the shared word. Folds the
  // local count (plus `extra`) into it and sets the merged state in one step; frees the object
  // if nothing is left. The local count and the owner are cleared first: once the merged state
  // is published, another thread's decref may free the object.
  void merge(long extra) {
    const long local = local_;
    local_ = 0;
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    long word = shared_.load(std::memory_order_relaxed);
    long next = 0;
    do {
      next = (count_of(word) + local + extra) * kOne + kMerged;
    } while (!shared_.compare_exchange_weak(word, next, std::memory_order_acq_rel,
                                            std::memory_order_relaxed));
    if (next == kMerged) on_free_();
  }

  // The shared word, laid out as PEP 703's ob_ref_shared: the count above two state bits, so that
  // one compare-exchange changes both. kOne adds one reference and leaves the state alone.
  static constexpr long kShift = 2;
  static constexpr long kOne = 1L << kShift;
  static constexpr long kStateMask = kOne - 1;
  static constexpr long kQueued = 0b10;  // pushed onto the owner's merge queue
  static constexpr long kMerged = 0b11;  // no owner any more: the shared count is the whole count
  static long count_of(long word) { return word >> kShift; }  // C++20: an arithmetic shift
  static long state_of(long word) { return word & kStateMask; }

  std::atomic<std::thread::id> owner_{std::this_thread::get_id()};
  long local_ = 1;  // the creator's reference
  std::atomic<long> shared_{0};
  MergeQueue& owner_queue_;
  std::function<void()> on_free_;
};

inline std::size_t MergeQueue::merge_all() {
  if (std::this_thread::get_id() != owner_)
    throw std::logic_error("MergeQueue::merge_all() called by a thread that does not own it");
  std::vector<Object*> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
  }
  // Outside the lock: a merge may free the object, and on_free may do anything.
  for (Object* object : taken) object->merge_queued();
  return taken.size();
}

}  // namespace kata
