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
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
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

namespace detail {

inline std::size_t checked_chunksize(std::size_t chunksize) {
  if (chunksize == 0) throw std::invalid_argument("chunksize must be at least 1");
  return chunksize;
}

// Calls chunk(begin, end) for the half-open input ranges [0, size), [size, 2 size), ...
template <typename Chunk>
void for_each_chunk(std::size_t inputs, std::size_t size, Chunk&& chunk) {
  for (std::size_t begin = 0; begin < inputs; begin += size) {
    chunk(begin, std::min(begin + size, inputs));
  }
}

inline std::size_t chunk_count(std::size_t inputs, std::size_t size) {
  return (inputs + size - 1) / size;
}

// Results are gathered in one slot per input. A slot is a std::optional, not an R, so that R
// need not be default-constructible, and so that neighbouring slots are separate objects
// (std::vector<bool> packs its elements into shared bytes: two threads writing neighbours
// would race).
template <typename R>
std::vector<R> unwrap(std::vector<std::optional<R>>& slots) {
  std::vector<R> results;
  results.reserve(slots.size());
  for (std::optional<R>& slot : slots) results.push_back(std::move(*slot));
  return results;
}

}  // namespace detail

template <typename T, typename Fn>
std::vector<MapResult<T, Fn>> map(support::ThreadPool& pool, Fn fn, const std::vector<T>& xs,
                                  std::optional<std::size_t> chunksize = std::nullopt) {
  using R = MapResult<T, Fn>;
  const std::size_t size =
      chunksize ? detail::checked_chunksize(*chunksize) : default_chunksize(xs.size(), pool.size());
  std::vector<std::optional<R>> results(xs.size());   // each chunk writes only its own slots
  std::vector<std::exception_ptr> errors(xs.size());  // per input, to find the earliest

  std::mutex mutex;
  std::condition_variable chunk_finished;
  std::size_t running = 0;  // chunks queued and not yet finished
  std::exception_ptr not_queued;
  detail::for_each_chunk(xs.size(), size, [&](std::size_t begin, std::size_t end) {
    if (not_queued) return;
    {
      std::lock_guard lock(mutex);
      ++running;
    }
    try {
      // The tasks use fn, xs, results and this function's locals by reference: safe only
      // because map does not return before every queued chunk has finished.
      pool.submit([&, begin, end] {
        for (std::size_t i = begin; i < end; ++i) {
          try {
            results[i] = fn(xs[i]);
          } catch (...) {
            errors[i] = std::current_exception();
            break;  // like Python, a chunk stops at its first exception
          }
        }
        std::lock_guard lock(mutex);
        --running;
        chunk_finished.notify_all();  // under the mutex: map may return the moment it sees 0
      });
    } catch (...) {  // e.g. the pool was closed: wait for what is queued, then report
      std::lock_guard lock(mutex);
      --running;
      not_queued = std::current_exception();
    }
  });

  {
    std::unique_lock lock(mutex);
    chunk_finished.wait(lock, [&] { return running == 0; });
  }
  if (not_queued) std::rethrow_exception(not_queued);
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return detail::unwrap(results);
}

// What imap_unordered returns: results in the order their chunks finished.
template <typename R>
class UnorderedResults {
 public:
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<R> ready;
    std::deque<std::exception_ptr> failed;  // one per chunk that threw
    std::size_t chunks_left = 0;
  };

  explicit UnorderedResults(std::shared_ptr<State> state) : state_(std::move(state)) {}

  // Waits for the next result and returns it; std::nullopt once every result has been handed
  // out. A chunk that threw re-throws its exception here, once.
  std::optional<R> next() {
    std::unique_lock lock(state_->mutex);
    state_->changed.wait(lock, [&] {
      return !state_->ready.empty() || !state_->failed.empty() || state_->chunks_left == 0;
    });
    if (!state_->failed.empty()) {
      std::exception_ptr error = state_->failed.front();
      state_->failed.pop_front();
      std::rethrow_exception(error);
    }
    if (state_->ready.empty()) return std::nullopt;
    R result = std::move(state_->ready.front());
    state_->ready.pop_front();
    return result;
  }

 private:
  std::shared_ptr<State> state_;  // shared with the chunk tasks, which may outlive this object
};

template <typename T, typename Fn>
UnorderedResults<MapResult<T, Fn>> imap_unordered(support::ThreadPool& pool, Fn fn,
                                                  const std::vector<T>& xs,
                                                  std::size_t chunksize = 1) {
  using R = MapResult<T, Fn>;
  using State = typename UnorderedResults<R>::State;
  const std::size_t size = detail::checked_chunksize(chunksize);
  // The call returns before the work is done, so the tasks own what they use: a copy of fn
  // and of the inputs (the caller's may change or die), and the state the results go to.
  struct Work {
    Fn fn;
    std::vector<T> xs;
  };
  auto work = std::make_shared<Work>(Work{std::move(fn), xs});
  auto state = std::make_shared<State>();
  state->chunks_left = detail::chunk_count(xs.size(), size);
  detail::for_each_chunk(xs.size(), size, [&](std::size_t begin, std::size_t end) {
    pool.submit([work, state, begin, end] {
      std::vector<R> results;
      std::exception_ptr error;
      try {
        for (std::size_t i = begin; i < end; ++i) results.push_back(work->fn(work->xs[i]));
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(state->mutex);
      if (error) {
        state->failed.push_back(error);
      } else {
        for (R& result : results) state->ready.push_back(std::move(result));
      }
      --state->chunks_left;
      state->changed.notify_all();
    });
  });
  return UnorderedResults<R>(std::move(state));
}

template <typename T, typename Fn>
std::future<std::vector<MapResult<T, Fn>>> map_async(
    support::ThreadPool& pool, Fn fn, const std::vector<T>& xs,
    std::optional<std::size_t> chunksize = std::nullopt,
    std::type_identity_t<std::function<void(const std::vector<MapResult<T, Fn>>&)>> on_done = {},
    std::function<void(std::exception_ptr)> on_error = {}) {
  using R = MapResult<T, Fn>;
  const std::size_t size =
      chunksize ? detail::checked_chunksize(*chunksize) : default_chunksize(xs.size(), pool.size());
  // Everything the tasks need lives here, owned by them together (see imap_unordered).
  struct Job {
    Job(Fn f, const std::vector<T>& inputs, std::function<void(const std::vector<R>&)> done,
        std::function<void(std::exception_ptr)> error, std::size_t chunks)
        : fn(std::move(f)),
          xs(inputs),
          on_done(std::move(done)),
          on_error(std::move(error)),
          results(inputs.size()),
          errors(inputs.size()),
          chunks_left(chunks) {}

    Fn fn;
    std::vector<T> xs;
    std::function<void(const std::vector<R>&)> on_done;
    std::function<void(std::exception_ptr)> on_error;
    std::vector<std::optional<R>> results;
    std::vector<std::exception_ptr> errors;
    std::promise<std::vector<R>> promise;
    std::mutex mutex;
    std::size_t chunks_left;

    // Runs once, on the thread that finished the last chunk: the other chunks' writes to
    // results and errors happened before their (locked) countdown, so they are all visible.
    void finish() {
      for (const std::exception_ptr& error : errors) {
        if (error) {
          if (on_error) on_error(error);
          promise.set_exception(error);
          return;
        }
      }
      std::vector<R> in_order = detail::unwrap(results);
      if (on_done) on_done(in_order);
      promise.set_value(std::move(in_order));
    }
  };
  auto job = std::make_shared<Job>(std::move(fn), xs, std::move(on_done), std::move(on_error),
                                   detail::chunk_count(xs.size(), size));
  std::future<std::vector<R>> future = job->promise.get_future();
  if (xs.empty()) {
    job->finish();  // nothing to wait for: report the empty result at once
    return future;
  }
  detail::for_each_chunk(xs.size(), size, [&](std::size_t begin, std::size_t end) {
    pool.submit([job, begin, end] {
      for (std::size_t i = begin; i < end; ++i) {
        try {
          job->results[i] = job->fn(job->xs[i]);
        } catch (...) {
          job->errors[i] = std::current_exception();
          break;
        }
      }
      bool last = false;
      {
        std::lock_guard lock(job->mutex);
        last = --job->chunks_left == 0;
      }
      if (last) job->finish();
    });
  });
  return future;
}

}  // namespace kata
