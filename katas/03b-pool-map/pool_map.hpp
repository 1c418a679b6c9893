// Kata 03b · map in chunks, imap_unordered and map_async on a pool
// Lesson: lessons/03-thread-pools/README.md#map-in-chunks
//
// Python's pool.map(fn, xs, chunksize), pool.imap_unordered(fn, xs) and pool.map_async(fn, xs,
// callback=..., error_callback=...), on the working ThreadPool of support/thread_pool.hpp:
//   - map cuts xs into chunks of `chunksize` neighbouring inputs (without one it picks a size
//     as Python does), queues one task per chunk, and returns the results in input order. If
//     calls throw, it waits for every chunk, then re-throws the earliest input's exception.
//   - imap_unordered hands out each chunk's results as soon as that chunk has finished.
//   - map_async returns at once; when every chunk is done it calls on_done(results) or, if a
//     call threw, on_error(exception), exactly once, then makes its future ready.
// A chunk size of 0 is an error (std::invalid_argument), as in Python's imap.
//
// Grade it: make test KATA=03b        Stuck? make hint KATA=03b
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "thread_pool.hpp"  // support::ThreadPool, given (kata 03a solved)

namespace kata {

// What fn returns for an input of type T (the element type of map's result).
template <typename T, typename Fn>
using MapResult = std::invoke_result_t<Fn&, const T&>;

// Python's default for map's chunksize (Lib/multiprocessing/pool.py, Pool._map_async): about
// four chunks per worker, `chunksize, extra = divmod(len(iterable), len(self._pool) * 4)`,
// plus one if there is a remainder. Never 0 (Python uses 0 only when there are no inputs).
inline std::size_t default_chunksize(std::size_t inputs, std::size_t workers) {
  const std::size_t per_chunk = inputs / (workers * 4);
  return inputs % (workers * 4) == 0 ? std::max<std::size_t>(per_chunk, 1) : per_chunk + 1;
}

template <typename T, typename Fn>
std::vector<MapResult<T, Fn>> map(support::ThreadPool& pool, Fn fn, const std::vector<T>& xs,
                                  std::optional<std::size_t> chunksize = std::nullopt) {
  using R = MapResult<T, Fn>;
  // TODO: chunksize is never looked at: every input gets a task of its own.
  (void)chunksize;
  std::mutex mutex;
  std::condition_variable call_finished;
  std::vector<R> results;
  std::exception_ptr error;
  std::size_t finished = 0;
  for (const T& x : xs) {
    pool.submit([&, x] {
      std::optional<R> result;
      std::exception_ptr failure;
      try {
        result = fn(x);
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard lock(mutex);
      // TODO: results land in the order the calls finish. Which input is each one for?
      if (result) results.push_back(std::move(*result));
      // TODO: this keeps the first exception to happen. Which input's should it be?
      if (failure && !error) error = failure;
      ++finished;
      call_finished.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  call_finished.wait(lock, [&] { return finished == xs.size(); });
  if (error) std::rethrow_exception(error);
  return results;
}

// What imap_unordered returns: results in the order their chunks finished.
template <typename R>
class UnorderedResults {
 public:
  explicit UnorderedResults(std::vector<R> all) : all_(std::move(all)) {}

  // Waits for the next result and returns it; std::nullopt once every result has been handed
  // out.
  std::optional<R> next() {
    if (next_ == all_.size()) return std::nullopt;
    return all_[next_++];
  }

 private:
  std::vector<R> all_;
  std::size_t next_ = 0;
};

template <typename T, typename Fn>
UnorderedResults<MapResult<T, Fn>> imap_unordered(support::ThreadPool& pool, Fn fn,
                                                  const std::vector<T>& xs,
                                                  std::size_t chunksize = 1) {
  // TODO: map() waits for every result, and then they are handed out in input order.
  return UnorderedResults<MapResult<T, Fn>>(map(pool, std::move(fn), xs, chunksize));
}

template <typename T, typename Fn>
std::future<std::vector<MapResult<T, Fn>>> map_async(
    support::ThreadPool& pool, Fn fn, const std::vector<T>& xs,
    std::optional<std::size_t> chunksize = std::nullopt,
    std::type_identity_t<std::function<void(const std::vector<MapResult<T, Fn>>&)>> on_done = {},
    std::function<void(std::exception_ptr)> on_error = {}) {
  using R = MapResult<T, Fn>;
  // TODO: this does all the work before it returns: the caller waits as long as with map().
  std::promise<std::vector<R>> promise;
  try {
    std::vector<R> results = map(pool, std::move(fn), xs, chunksize);
    if (on_done) on_done(results);
    promise.set_value(std::move(results));
  } catch (...) {
    if (on_error) on_error(std::current_exception());
    promise.set_exception(std::current_exception());
  }
  return promise.get_future();
}

}  // namespace kata
