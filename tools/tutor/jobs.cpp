#include "jobs.hpp"

#include <unistd.h>

#include <atomic>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

namespace tutor {

namespace {
std::unique_ptr<JobSlots>& shared_slots() {
  static std::unique_ptr<JobSlots> slots;
  return slots;
}
std::mutex shared_slots_mutex;
}  // namespace

JobSlots& JobSlots::shared() {
  std::lock_guard lock(shared_slots_mutex);
  auto& slots = shared_slots();
  if (!slots) {
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    slots = std::make_unique<JobSlots>(static_cast<int>(cores > 0 ? 2 * cores : 4));
  }
  return *slots;
}

void JobSlots::set_size(int slots) {
  std::lock_guard lock(shared_slots_mutex);
  shared_slots() = std::make_unique<JobSlots>(slots > 0 ? slots : 1);
}

void JobSlots::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return free_ > 0; });
  --free_;
}

void JobSlots::release() {
  {
    std::lock_guard lock(mutex_);
    ++free_;
  }
  freed_.notify_one();
}

void parallel_for(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& work) {
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  const std::size_t n = std::min(count, threads == 0 ? 1 : threads);
  for (std::size_t t = 1; t < n; ++t) pool.emplace_back(worker);
  if (count > 0) worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace tutor
