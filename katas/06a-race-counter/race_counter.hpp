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

namespace kata {

class Counter {
 public:
  // Adds one.
  void increment() {
    // TODO: ++ on a plain int is three steps (read, add, write) that other threads can split.
    ++value_;
  }

  // Replaces the value v with change(v) in one step: no other increment() or update() may come
  // between the read of v and the write of change(v). If change throws, the exception reaches
  // the caller and the value stays as it was. Keep change short: other callers may wait for it.
  void update(const std::function<int(int)>& change) {
    // TODO: another thread can change value_ while change() runs; its work is then overwritten.
    value_ = change(value_);
  }

  // The value now.
  int value() const {
    // TODO: reading while another thread writes is a data race too.
    return value_;
  }

 private:
  int value_ = 0;
};

}  // namespace kata
