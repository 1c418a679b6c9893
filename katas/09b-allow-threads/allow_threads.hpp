// Kata 09b · Release the GIL around blocking calls
// Lesson: lessons/09-the-gil/README.md#what-it-costs
//
// CPython's I/O functions release the GIL while they block (Py_BEGIN_ALLOW_THREADS ...
// Py_END_ALLOW_THREADS), so that other threads run bytecode, or wait on their own I/O, in the
// meantime. As written, blocking_call() keeps the GIL through the whole call: one thread's read
// stops every other thread. Make ReleasedGil drop the GIL for its lifetime and take it back when
// it ends, and make blocking_call() use it, so that the caller holds the GIL again afterwards,
// also when the call throws.
//
// Grade it: make test KATA=09b        Stuck? make hint KATA=09b
#pragma once

#include <utility>

#include "gil.hpp"

namespace kata {

// The GIL released for as long as this object lives, taken back by the same thread at its end.
class ReleasedGil {
 public:
  // TODO: nothing is released here, and nothing is taken back at the end.
  ReleasedGil(support::Gil& gil, support::Gil::ThreadId thread) : gil_(gil), thread_(thread) {}

  ReleasedGil(const ReleasedGil&) = delete;
  ReleasedGil& operator=(const ReleasedGil&) = delete;

 private:
  support::Gil& gil_;
  support::Gil::ThreadId thread_;
};

// Calls `call` (a blocking call: a read, a sleep, a wait) from `thread`, which holds the GIL,
// with the GIL released; returns what it returns, with the GIL held again.
template <typename Call>
decltype(auto) blocking_call(support::Gil& gil, support::Gil::ThreadId thread, Call&& call) {
  // TODO: the call blocks with the GIL held: every other thread waits for it too.
  (void)gil;
  (void)thread;
  return std::forward<Call>(call)();
}

}  // namespace kata
