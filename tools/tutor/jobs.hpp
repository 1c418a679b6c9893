// How many test processes run at the same time, and a way to run work on a few threads.
//
// Most of what the tutor runs waits (tests sleep on barriers and deadlines, children hang on
// purpose), so it runs several test processes at once: by default twice the number of cores.
// One JobSlots is shared by everything in a tutor process, so running katas side by side and
// each kata's tests side by side never adds up to more processes than that.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace tutor {

class JobSlots {
 public:
  explicit JobSlots(int slots) : free_(slots) {}

  // The slots of this tutor process (twice the cores unless set_size said otherwise).
  static JobSlots& shared();
  static void set_size(int slots);

  // Holds one slot for its lifetime.
  class Held {
   public:
    explicit Held(JobSlots& slots) : slots_(slots) { slots_.acquire(); }
    ~Held() { slots_.release(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    JobSlots& slots_;
  };

  void acquire();
  void release();

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  int free_;
};

// Calls work(i) for i in [0, count) on up to `threads` threads at once and returns when all
// calls have returned. An exception in one call is re-thrown here after the others finish.
void parallel_for(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& work);

}  // namespace tutor
