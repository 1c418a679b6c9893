// testkit/deadline.hpp's run_within: the call on a helper thread, a deadline, and a look for a
// deadlock every 100 ms while it runs (testkit/deadlock.hpp).
#include "testkit/deadline.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "testkit/deadlock.hpp"
#include "testkit/markers.hpp"

namespace testkit::detail {

namespace {

pid_t this_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

[[noreturn]] void end_test(const std::string& line) {
  std::fprintf(stderr, "\n%s%s\n", markers::kTimeout, line.c_str());
  std::fflush(stderr);
  std::_Exit(124);
}

}  // namespace

void run_within(std::chrono::milliseconds deadline, const std::string& what,
                const std::function<void()>& body, const std::string& hint) {
  // A thread that looks for a deadlock this often: a deadlocked call is named after 0.2-0.3 s,
  // while a call that ends (most end in milliseconds) never waits for a look.
  constexpr auto kLookEvery = std::chrono::milliseconds(100);
  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::exception_ptr error;
    std::atomic<pid_t> runner{0};
  };
  auto shared = std::make_shared<Shared>();
  const auto start = std::chrono::steady_clock::now();
  std::thread runner([&body, shared] {
    shared->runner = this_tid();
    try {
      body();
    } catch (...) {
      shared->error = std::current_exception();
    }
    std::lock_guard lock(shared->mutex);
    shared->done = true;
    shared->done_cv.notify_all();
  });
  const pid_t watcher = this_tid();
  add_watcher(watcher);
  std::optional<DeadlockWatch> watch;
  {
    std::unique_lock lock(shared->mutex);
    while (!shared->done) {
      const auto now = std::chrono::steady_clock::now();
      if (now - start >= deadline) {
        char limit[32];
        std::snprintf(limit, sizeof limit, "%.1f", seconds(deadline));
        end_test(what + " did not finish within " + limit + " s. " + hint);
      }
      const auto until = std::min(start + deadline, now + kLookEvery);
      if (shared->done_cv.wait_until(lock, until, [&] { return shared->done; })) break;
      // Looked at with the lock released: a runner that wants it must not look blocked.
      lock.unlock();
      if (!watch && shared->runner != 0) watch.emplace(shared->runner);
      const std::string who_waits = watch ? watch->look() : "";
      if (!who_waits.empty()) {
        char found[96];
        std::snprintf(found, sizeof found, "(a deadlock, seen after %.1f s of its %.1f s deadline)",
                      seconds(std::chrono::steady_clock::now() - start), seconds(deadline));
        const bool alone = who_waits.find("; ") == std::string::npos;
        end_test(what + " can never finish " + found + ": " + who_waits +
                 (alone ? ". Nothing else is left that could end that wait. "
                        : ". Each of these waits for another of them, so none ever ends. ") +
                 hint);
      }
      lock.lock();
    }
  }
  remove_watcher(watcher);
  runner.join();
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace testkit::detail
