// thread_cost: what does it cost to run a function on a new thread, on this machine?
//
// Measures the median time of
//   - a plain function call (for scale),
//   - creating a std::thread that runs an empty function, and joining it,
//   - std::async(std::launch::async, ...) followed by future.get() (a new thread plus the
//     shared state that carries the result back),
// and prints them as a table. Lesson 01 (README.md#what-a-thread-costs) quotes these figures.
//
//   thread_cost           measure properly (about a second)
//   thread_cost --quick   a few repetitions only (for make check; well under 2 s)
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Kept out of line, and its result consumed through an empty asm statement, so that the
// compiler really makes the call instead of folding it away.
[[gnu::noinline]] int add_one(int x) {
  asm volatile("" : "+r"(x));
  return x + 1;
}

struct Stats {
  double median_us;
  double p10_us;
  double p90_us;
  int samples;
};

Stats summarize(std::vector<double> samples_us) {
  std::sort(samples_us.begin(), samples_us.end());
  auto at = [&](double q) {
    return samples_us[static_cast<std::size_t>(q * static_cast<double>(samples_us.size() - 1))];
  };
  return {at(0.5), at(0.1), at(0.9), static_cast<int>(samples_us.size())};
}

// Times `once()` `samples` times (after a few warm-up runs); each sample covers `batch`
// calls and is reported per call, so very short operations are not lost in clock noise.
template <typename Fn>
Stats measure(int samples, int batch, Fn once) {
  for (int i = 0; i < 10; ++i) once();  // warm up: first thread stacks, page faults, caches
  std::vector<double> per_call_us;
  per_call_us.reserve(static_cast<std::size_t>(samples));
  for (int s = 0; s < samples; ++s) {
    const auto start = Clock::now();
    for (int b = 0; b < batch; ++b) once();
    const std::chrono::duration<double, std::micro> took = Clock::now() - start;
    per_call_us.push_back(took.count() / batch);
  }
  return summarize(std::move(per_call_us));
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 100 : 5000;

  int sink = 0;
  const Stats call = measure(samples, 1000, [&] { sink = add_one(sink); });
  const Stats thread = measure(samples, 1, [] { std::thread([] {}).join(); });
  const Stats async =
      measure(samples, 1, [] { std::async(std::launch::async, [] { return 1; }).get(); });

  fmt::print("What it costs to run an empty function, {} samples each{}; {} hardware threads\n\n",
             samples, quick ? " (--quick: rough figures)" : "",
             std::thread::hardware_concurrency());
  fmt::print("{:<34} {:>12} {:>10} {:>10} {:>16}\n", "", "median µs", "p10 µs", "p90 µs",
             "× function call");
  auto row = [&](const std::string& what, const Stats& s) {
    fmt::print("{:<34} {:>12.4f} {:>10.4f} {:>10.4f} {:>16.0f}\n", what, s.median_us, s.p10_us,
               s.p90_us, s.median_us / call.median_us);
  };
  row("plain function call", call);
  row("std::thread create + join", thread);
  row("std::async(launch::async) + get", async);
  fmt::print(
      "\nStarting a thread costs about {:.0f} plain calls; give each thread work that takes "
      "much longer than {:.0f} µs, or reuse threads (a pool, lesson 03).\n",
      thread.median_us / call.median_us, thread.median_us);
  return sink == -1 ? 1 : 0;  // use sink so the calls count as needed
}
