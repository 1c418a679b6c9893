// Kata 06a · Count from many threads without losing an update
// Lesson: lessons/06-shared-state/README.md#what-a-data-race-is
//
// One Counter is shared by many threads: any of them may call increment(), update() or value()
// at any moment. As written, two threads can read the same old value and both write back that
// value plus one, and one update is lost. Worse, two threads touching a plain int without
// synchronisation is a data race: undefined behaviour, whatever number comes out. Make every
// call safe from any number of threads at once, and each update() one indivisible step.
//
// Grade it: make test KATA=06a        Stuck? make hint KATA=06a
#pragma once

#include <functional>
#include <mutex>

namespace kata {

// One mutex guards value_: every read and every write happens with it locked, so the
// read-modify-write of increment() and the read-change-write of update() are each one step
// for every other thread. (A std::atomic<int> would do for increment() and value(), but not
// for update(): change() runs between the read and the write, and only a lock, or a
// compare-and-swap loop that calls change() again when it lost, makes that one step.)
class Counter {
 public:
  void increment() {
    std::scoped_lock lock(mutex_);
    ++value_;
  }

  // The lock is released on every way out, also when change() throws: value_ is then never
  // written.
  void update(const std::function<int(int)>& change) {
    std::scoped_lock lock(mutex_);
    value_ = change(value_);
  }

  int value() const {
    std::scoped_lock lock(mutex_);
    return value_;
  }

 private:
  mutable std::mutex mutex_;  // mutable: value() locks it too
  int value_ = 0;             // guarded by mutex_
};

}  // namespace kata
