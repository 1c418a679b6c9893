// which_tool: the question of the whole course, answered on this machine. One CPU-bound job
// (π by the midpoint rule) and one I/O-bound job (many waits, as for network replies), each run
// sequentially and with every tool of lessons 01-10: threads, threads under a GIL (the simulated
// one of lesson 09, released around blocking calls), processes, a thread pool, oneTBB, OpenMP
// and std::execution::par. Lesson 10 (README.md#which-tool-your-own-numbers) reads the table.
//
//   which_tool           measure properly (median of 3 runs each; a few seconds)
//   which_tool --quick   small runs (for make check; well under 2 s)
#include <fmt/core.h>
#include <omp.h>
#include <sys/wait.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <execution>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gil.hpp"
#include "thread_pool.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// ---- the two jobs, split into `parts` pieces that any tool can run --------------------------

struct Job {
  const char* name;
  int parts;                                 // independent pieces
  std::function<double(int part)> run_part;  // runs one piece; returns its share of the result
  bool blocks;                               // true: a piece waits (I/O) instead of computing
};

// π = the integral of 4 / (1 + x²) over [0, 1], by the midpoint rule over `steps` steps.
Job pi_job(long steps, int parts) {
  return {"CPU-bound", parts,
          [steps, parts](int part) {
            const long begin = steps * part / parts;
            const long end = steps * (part + 1) / parts;
            const double width = 1.0 / static_cast<double>(steps);
            double sum = 0;
            for (long i = begin; i < end; ++i) {
              const double x = (static_cast<double>(i) + 0.5) * width;
              sum += 4.0 / (1.0 + x * x);
            }
            return sum * width;
          },
          false};
}

// `parts` waits of `wait` each: replies from a slow server.
Job io_job(int parts, std::chrono::milliseconds wait) {
  return {"I/O-bound", parts,
          [wait](int) {
            std::this_thread::sleep_for(wait);
            return 1.0;
          },
          true};
}

// ---- the tools ------------------------------------------------------------------------------

double sequential(const Job& job, int) {
  double total = 0;
  for (int p = 0; p < job.parts; ++p) total += job.run_part(p);
  return total;
}

// `workers` threads, each running every workers-th piece.
double threads(const Job& job, int workers) {
  std::vector<double> totals(static_cast<std::size_t>(workers), 0.0);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      for (int p = w; p < job.parts; p += workers)
        totals[static_cast<std::size_t>(w)] += job.run_part(p);
    });
  }
  for (auto& t : pool) t.join();
  return std::accumulate(totals.begin(), totals.end(), 0.0);
}

// The same threads, but each runs its pieces holding a GIL (lesson 09): computing is bytecode,
// with a check point after each piece; a wait is a blocking call, made with the GIL released.
double threads_under_a_gil(const Job& job, int workers) {
  support::Gil gil(support::GilKind::Modern);
  std::vector<double> totals(static_cast<std::size_t>(workers), 0.0);
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      gil.take(w);
      for (int p = w; p < job.parts; p += workers) {
        if (job.blocks) {
          support::AllowThreads released(gil, w);
          totals[static_cast<std::size_t>(w)] += job.run_part(p);
        } else {
          totals[static_cast<std::size_t>(w)] += job.run_part(p);
          gil.check(w);
        }
      }
      gil.drop(w);
    });
  }
  for (auto& t : pool) t.join();
  return std::accumulate(totals.begin(), totals.end(), 0.0);
}

// `workers` child processes (fork), each sending its share back through a pipe.
double processes(const Job& job, int workers) {
  std::vector<int> reads;
  std::vector<pid_t> children;
  for (int w = 0; w < workers; ++w) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      close(fds[0]);
      double total = 0;
      for (int p = w; p < job.parts; p += workers) total += job.run_part(p);
      const bool sent = write(fds[1], &total, sizeof total) == sizeof total;
      _exit(sent ? 0 : 1);
    }
    close(fds[1]);
    reads.push_back(fds[0]);
    children.push_back(pid);
  }
  double total = 0;
  for (int fd : reads) {
    double share = 0;
    if (read(fd, &share, sizeof share) != sizeof share) throw std::runtime_error("a child failed");
    total += share;
    close(fd);
  }
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  return total;
}

// Lesson 03's pool: one task per piece.
double thread_pool(const Job& job, int workers) {
  std::vector<double> shares(static_cast<std::size_t>(job.parts), 0.0);
  {
    support::ThreadPool pool(static_cast<std::size_t>(workers));
    for (int p = 0; p < job.parts; ++p) {
      pool.submit([&, p] { shares[static_cast<std::size_t>(p)] = job.run_part(p); });
    }
  }  // the destructor closes the pool and joins its workers once the queue is empty
  return std::accumulate(shares.begin(), shares.end(), 0.0);
}

// oneTBB: parallel_reduce over the pieces, in an arena of `workers` threads.
double onetbb(const Job& job, int workers) {
  tbb::task_arena arena(workers);
  return arena.execute([&] {
    return tbb::parallel_reduce(
        tbb::blocked_range<int>(0, job.parts, 1), 0.0,
        [&](const tbb::blocked_range<int>& range, double total) {
          for (int p = range.begin(); p != range.end(); ++p) total += job.run_part(p);
          return total;
        },
        std::plus<double>());
  });
}

// OpenMP: a parallel for with a reduction, on `workers` threads.
double openmp(const Job& job, int workers) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) num_threads(workers) schedule(dynamic, 1)
  for (int p = 0; p < job.parts; ++p) total += job.run_part(p);
  return total;
}

// C++17's parallel algorithms (on oneTBB's threads with g++): the thread count is not ours.
double execution_par(const Job& job, int) {
  std::vector<int> parts(static_cast<std::size_t>(job.parts));
  std::iota(parts.begin(), parts.end(), 0);
  return std::transform_reduce(std::execution::par, parts.begin(), parts.end(), 0.0,
                               std::plus<double>(), [&](int p) { return job.run_part(p); });
}

struct Tool {
  const char* name;
  double (*run)(const Job&, int workers);
  bool one_thread_per_piece_for_io;  // for the I/O job, as many workers as pieces
};

double seconds_of(const Tool& tool, const Job& job, int workers, int repeats, double& result) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    result = tool.run(job, workers);
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  const int repeats = quick ? 1 : 3;
  const Job cpu = pi_job(quick ? 4'000'000 : 200'000'000, 8 * cores);
  const Job io = io_job(16, std::chrono::milliseconds(quick ? 2 : 10));

  // Processes first: a fork() after oneTBB or OpenMP have started their threads is safe here
  // (the children only compute and write), but lesson 05 says why the order is a good habit.
  const Tool tools[] = {
      {"one thread (sequential)", sequential, false},
      {"processes (fork)", processes, false},
      {"threads", threads, true},
      {"threads under a GIL (3.2+)", threads_under_a_gil, true},
      {"thread pool (lesson 03)", thread_pool, false},
      {"oneTBB parallel_reduce", onetbb, false},
      {"OpenMP parallel for", openmp, false},
      {"std::execution::par", execution_par, false},
  };

  fmt::print("Which tool? {} hardware threads here; median of {} run(s) each.\n", cores, repeats);
  fmt::print("  CPU-bound: pi by the midpoint rule, {} pieces, on {} workers.\n", cpu.parts, cores);
  fmt::print("  I/O-bound: {} waits of {} ms, on {} workers (threads: one per wait).\n\n", io.parts,
             quick ? 2 : 10, cores);
  fmt::print("  {:<28} {:>22}   {:>22}\n", "", "CPU-bound", "I/O-bound");
  double cpu_base = 0;
  double io_base = 0;
  for (const Tool& tool : tools) {
    double pi = 0;
    double waits = 0;
    const double cpu_s = seconds_of(tool, cpu, cores, repeats, pi);
    const int io_workers = tool.one_thread_per_piece_for_io ? io.parts : cores;
    const double io_s = seconds_of(tool, io, io_workers, repeats, waits);
    if (cpu_base == 0) {
      cpu_base = cpu_s;
      io_base = io_s;
    }
    if (std::abs(pi - M_PI) > 1e-6 || waits != io.parts) {
      fmt::print("  {}: wrong result (pi {} , waits {})\n", tool.name, pi, waits);
      return 1;
    }
    fmt::print("  {:<28} {:8.3f} s  {:5.2f}x     {:8.3f} s  {:5.2f}x\n", tool.name, cpu_s,
               cpu_base / cpu_s, io_s, io_base / io_s);
  }
  fmt::print(
      "\n  (x = speed-up over one thread. With a GIL, computing threads take turns: about 1x.\n"
      "   Waiting threads release it, so they overlap like any threads. Every other tool runs\n"
      "   as many waits at once as it has workers.)\n");
  return 0;
}
