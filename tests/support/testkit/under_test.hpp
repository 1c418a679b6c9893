// The object under test (a pool, an executor), destroyed under a deadline: a destructor that
// hangs becomes a TIMEOUT that says what hung, also when an ASSERT ended the test early.
//
// Why: a pool's destructor joins its workers, and a learner's worker that nobody wakes makes it
// hang. As a plain local, the pool would be destroyed at the end of the test with no deadline
// (the grader would report a bare TIMEOUT); here the destructor runs inside
// testkit::finishes_within. A test may also destroy the object at a moment of its choosing,
// with words of its own, and watch the thread that runs the destructor (destroyer()).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "testkit/deadline.hpp"
#include "testkit/thread_probe.hpp"

namespace testkit {

// How the object is destroyed when the test does not say otherwise.
struct Teardown {
  std::chrono::milliseconds deadline;   // after which the destructor counts as hung
  std::string what;                     // "~ThreadPool()": what did not finish, in the TIMEOUT
  std::string hint = kUsualHangCauses;  // the likely causes, after the TIMEOUT
};

template <typename T>
class UnderTest {
 public:
  // Builds T from `args` (T need not be movable).
  template <typename... Args>
  explicit UnderTest(Teardown teardown, Args&&... args) : teardown_(std::move(teardown)) {
    object_.emplace(std::forward<Args>(args)...);
  }
  UnderTest(const UnderTest&) = delete;
  UnderTest& operator=(const UnderTest&) = delete;
  ~UnderTest() { destroy(); }

  // The object; only while it has not been destroyed.
  T* operator->() { return &*object_; }
  T& operator*() { return *object_; }

  // Destroys the object now, on a helper thread under the teardown's deadline; `what` and
  // `hint` replace the teardown's words in the TIMEOUT. Does nothing once it is destroyed.
  void destroy() { destroy(teardown_.what, teardown_.hint); }
  void destroy(const std::string& what) { destroy(what, teardown_.hint); }
  void destroy(const std::string& what, const std::string& hint) {
    if (!object_) return;
    finishes_within(
        teardown_.deadline, what,
        [&] {
          destroyer_ = this_thread_tid();
          object_.reset();
        },
        hint);
  }

  // The kernel id of the thread that runs the destructor, once destroy() has begun (0 before):
  // a test can see it blocked, or joining a worker (testkit::waits_to_join).
  pid_t destroyer() const { return destroyer_.load(); }

 private:
  Teardown teardown_;
  std::optional<T> object_;
  std::atomic<pid_t> destroyer_{0};
};

}  // namespace testkit
