// Tests for kata 06c: a BoundedQueue carries every item from several producers to several
// consumers exactly once, push() waits while it is full and pop() while it is empty, and close()
// wakes every waiting push() and pop().
//
// "Waits" is read from the kernel, not a stopwatch: the caller is asleep in futex, where a
// condition variable waits, and has not returned. Waiters are started one at a time, each seen
// asleep before the next starts, so each sleeps in the queue's condition variable (nobody holds
// the mutex for them to wait on). The `if` that should be a `while` is caught on every run:
// testkit::CondWaitSpy makes the caller's first wait come back at once, as a spurious wake-up
// may (the standard allows it; a wake-up "stolen" by another consumer looks the same).
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bounded_queue.hpp"
#include "testkit/cond_wait_spy.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/thread_probe.hpp"

namespace {

using namespace std::chrono_literals;
using Queue = kata::BoundedQueue<int>;

class BoundedQueue : public testkit::LeakCheckedTest {};

// One push() or pop() on its own thread: the test sees its kernel id, whether it has returned,
// and what it returned (push: 1 for true, 0 for false; pop: the item, or -1 for nothing).
class Call {
 public:
  explicit Call(std::function<int()> call, testkit::CondWaitSpy* spy = nullptr)
      : thread_([this, call = std::move(call), spy] {
          tid_ = testkit::this_thread_tid();
          if (spy != nullptr) {
            spy->watch(tid_);
            spy->wake_next_wait_at_once();
          }
          const int result = call();
          std::lock_guard lock(mutex_);
          result_ = result;
        }) {}
  ~Call() { thread_.join(); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  std::optional<int> result() const {
    std::lock_guard lock(mutex_);
    return result_;
  }
  bool asleep() const { return testkit::activity_of(tid_) == testkit::Activity::kAsleepInFutex; }
  // Waits until the call has returned or is asleep in futex; true if it is asleep.
  bool waits() const {
    testkit::eventually([&] { return result().has_value() || asleep(); }, 3s);
    return !result().has_value() && asleep();
  }

 private:
  mutable std::mutex mutex_;
  std::optional<int> result_;
  std::atomic<pid_t> tid_{0};
  std::thread thread_;  // last: starts once the rest exists
};

std::function<int()> push(Queue& queue, int value) {
  return [&queue, value] { return queue.push(value) ? 1 : 0; };
}
std::function<int()> pop(Queue& queue) {
  return [&queue] { return queue.pop().value_or(-1); };
}

constexpr const char* kCloseHint =
    "close() changes what every waiting pop() and push() waits for, so each of them must wake "
    "up. Does close() wake only one waiter (notify_one), or only the consumers?";

TEST_F(BoundedQueue, AClosedQueueHandsOutWhatItHoldsThenNothing) {
  Queue queue(3);
  testkit::finishes_within(2s, "push(1), push(2), close(), push(3), then four pop()s", [&] {
    EXPECT_TRUE(queue.push(1) && queue.push(2)) << "push() into an open queue with room failed";
    queue.close();
    EXPECT_FALSE(queue.push(3)) << "push() after close() returned true: a closed queue refuses";
    EXPECT_EQ(queue.pop(), 1) << "the first item pushed should come out first";
    EXPECT_EQ(queue.pop(), 2) << "items pushed before close() can still be popped, in order";
    EXPECT_EQ(queue.pop(), std::nullopt) << "a closed, empty queue should give std::nullopt";
    EXPECT_EQ(queue.pop(), std::nullopt) << "a closed, empty queue should give std::nullopt";
  });
}

TEST_F(BoundedQueue, AFullQueueMakesPushWaitForRoom) {
  Queue queue(2);
  testkit::finishes_within(3s, "push() into a full queue, then pop()s", [&] {
    queue.push(1);
    queue.push(2);
    Call third(push(queue, 3));
    ASSERT_TRUE(third.waits()) << "push(3) into a full queue (capacity 2, holding 2) returned "
                               << third.result().value_or(-1)
                               << " instead of waiting for room: does push() wait while the "
                                  "queue is full?";
    EXPECT_EQ(queue.pop(), 1) << "the first item pushed should come out first";
    EXPECT_TRUE(testkit::eventually([&] { return third.result().has_value(); }, 2s))
        << "a pop() made room in the full queue, but the waiting push(3) did not go on: does "
           "pop() wake a waiting push()?";
    EXPECT_EQ(queue.pop(), 2);
    EXPECT_EQ(queue.pop(), 3) << "the push that waited for room should add its item at the back";
  });
}

TEST_F(BoundedQueue, PopWaitsAgainAfterAWakeUpWithNothingToTake) {
  Queue queue(2);
  testkit::CondWaitSpy spy;
  testkit::finishes_within(3s, "pop() on an open, empty queue, then push(7)", [&] {
    Call consumer(pop(queue), &spy);
    const bool waited = consumer.waits();
    ASSERT_TRUE(waited && spy.waits() >= 2)
        << "pop() on an open, empty queue returned "
        << (consumer.result() == -1 ? "std::nullopt" : "an item")
        << " after its wait came back without a push. A wait may come back with nothing to "
           "take: spuriously, which the standard allows, or because another consumer took the "
           "item first. Does pop() look at the queue again after every wake-up, and wait again "
           "while it is empty and open?";
    queue.push(7);
    EXPECT_TRUE(testkit::eventually([&] { return consumer.result().has_value(); }, 2s))
        << "push(7) into the queue did not wake the waiting pop()";
    EXPECT_EQ(consumer.result(), 7) << "the waiting pop() should return the item pushed";
  });
}

TEST_F(BoundedQueue, PushWaitsAgainAfterAWakeUpWithNoRoom) {
  Queue queue(1);
  testkit::CondWaitSpy spy;
  testkit::finishes_within(3s, "push(2) into a full queue, then two pop()s", [&] {
    queue.push(1);
    Call producer(push(queue, 2), &spy);
    const bool waited = producer.waits();
    EXPECT_TRUE(waited && spy.waits() >= 2)
        << "push(2) into a full queue (capacity 1, holding 1) returned after its wait came back "
           "with no room made: the queue now holds more than its capacity. A wait may come back "
           "with the queue still full: spuriously, which the standard allows, or because "
           "another producer took the free place first. Does push() look again after every "
           "wake-up, and wait again while the queue is full?";
    EXPECT_EQ(queue.pop(), 1);
    EXPECT_EQ(queue.pop(), 2);
  });
}

TEST_F(BoundedQueue, CloseWakesEveryWaitingPopAndPush) {
  Queue empty(2), full(1);
  full.push(0);
  testkit::finishes_within(
      3s, "close() of a queue with 3 waiting pop()s and of a full one with 2 waiting push()es",
      [&] {
        std::vector<std::unique_ptr<Call>> calls;
        for (int i = 0; i < 5; ++i) {
          calls.push_back(std::make_unique<Call>(i < 3 ? pop(empty) : push(full, i)));
          ASSERT_TRUE(calls.back()->waits())
              << (i < 3 ? "pop() on an open, empty queue" : "push() into a full queue")
              << " returned instead of waiting";
        }
        empty.close();
        full.close();
        calls.clear();  // joins each call: each must have returned
      },
      kCloseHint);
}

TEST_F(BoundedQueue, CloseIsHeardByAPopAboutToWait) {
  // A pop() looks at the queue and the flag with the mutex held, then waits. A close() that
  // changes the flag, or notifies, without that mutex can come in between: the notify finds
  // nobody waiting yet, and pop() then sleeps for good. The spy holds the consumer right there,
  // mutex in hand, until the thread calling close() is seen blocked (a close() that takes the
  // mutex blocks on it) or close() has returned (one that takes no lock).
  Queue queue(2);
  testkit::CondWaitSpy spy;
  std::atomic<pid_t> closer{0};
  std::atomic<bool> closed{false};
  testkit::finishes_within(
      4s, "close() while a pop() was about to wait, then that pop()",
      [&] {
        Call consumer([&] {
          spy.watch(testkit::this_thread_tid());
          spy.hold_next_wait(
              [&] { return closed.load() || (closer != 0 && testkit::blocked(closer.load())); },
              3s);
          return queue.pop().value_or(-1);
        });
        ASSERT_TRUE(testkit::eventually([&] { return spy.holds() > 0; }, 3s))
            << "pop() on an open, empty queue never began to wait on a condition variable";
        closer = testkit::this_thread_tid();
        queue.close();
        closed = true;
      },
      "pop() slept through close(). Does close() set the flag, or notify, without holding the "
      "mutex under which pop() looks at the queue before it waits? Then the wake-up can fall "
      "between pop()'s look and its wait; see 'Lost wake-ups' in the lesson.");
}

TEST_F(BoundedQueue, EveryItemGoesThroughExactlyOnce) {
  // 3 producers push 1..3000 each through a queue of 4 places to 3 consumers, who add up what
  // they pop until the queue, closed once every producer is done, gives std::nullopt.
  constexpr int kEach = 3000;
  Queue queue(4);
  std::array<long, 3> sums{};
  std::array<int, 3> counts{};
  testkit::finishes_within(
      6s, "3 producers and 3 consumers moving 9000 items through a queue of 4, then close()",
      [&] {
        std::vector<std::thread> consumers, producers;
        for (int c = 0; c < 3; ++c) {
          consumers.emplace_back([&, c] {
            while (std::optional<int> item = queue.pop()) {
              sums[c] += *item;
              ++counts[c];
            }
          });
        }
        for (int p = 0; p < 3; ++p) {
          producers.emplace_back([&] {
            for (int i = 1; i <= kEach; ++i) queue.push(i);
          });
        }
        for (std::thread& producer : producers) producer.join();
        queue.close();
        for (std::thread& consumer : consumers) consumer.join();
      },
      kCloseHint);
  const long sum = sums[0] + sums[1] + sums[2];
  const int count = counts[0] + counts[1] + counts[2];
  EXPECT_EQ(count, 3 * kEach) << "3 producers pushed " << 3 * kEach << " items; the consumers "
                              << "popped " << count
                              << ". Did a consumer stop early, taking a wake-up with nothing to "
                                 "take for the end of the queue?";
  EXPECT_EQ(sum, 3L * kEach * (kEach + 1) / 2)
      << "the items popped do not add up to the items pushed";
}

}  // namespace
