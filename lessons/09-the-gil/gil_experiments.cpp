// gil_experiments: the classic GIL measurements, run on the simulated interpreter of
// support/interpreter.hpp (CPython 3.2+'s GIL, Python 3.1's tick GIL, and no GIL), on this
// machine. Lesson 09 (README.md#the-experiments) explains what each one shows.
//   1. Two CPU-bound threads against the same work done on one thread, under each GIL.
//   2. The convoy effect: a thread doing many short I/Os, alone and beside a CPU-bound thread.
//   3. A timeline of who held the GIL: drawn here in colour, and written as an SVG file.
//
//   gil_experiments                        measure properly (a few seconds), write the SVG
//   gil_experiments --svg <file>           ... to <file> (default: gil-timeline.svg)
//   gil_experiments --quick                small runs (for make check; well under 2 s), no SVG
#include <fmt/color.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "interpreter.hpp"

namespace {

using namespace std::chrono_literals;
using support::Cpu;
using support::Gil;
using support::GilKind;
using support::Interpreter;
using support::Io;
using support::Program;
using support::ThreadState;
using Clock = std::chrono::steady_clock;

const char* name(GilKind kind) {
  switch (kind) {
    case GilKind::Modern:
      return "CPython 3.2+ GIL";
    case GilKind::Ticks:
      return "Python 3.1 GIL ";
    case GilKind::Off:
      return "no GIL         ";
  }
  return "?";
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs the programs on a fresh interpreter; returns the wall time.
double run(GilKind kind, const std::vector<Program>& programs) {
  Gil gil(kind);
  Interpreter interpreter(gil);
  const auto start = Clock::now();
  interpreter.run(programs);
  return seconds(Clock::now() - start);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void cpu_bound(int units, int repeats) {
  fmt::print(
      "1. Two CPU-bound threads, {} units of bytecode each, against one thread doing both "
      "(median of {})\n",
      units, repeats);
  for (GilKind kind : {GilKind::Modern, GilKind::Ticks, GilKind::Off}) {
    std::vector<double> one, two;
    for (int r = 0; r < repeats; ++r) {
      one.push_back(run(kind, {{Cpu{units}, Cpu{units}}}));
      two.push_back(run(kind, {{Cpu{units}}, {Cpu{units}}}));
    }
    const double a = median(one), b = median(two);
    fmt::print("   {}  one thread {:6.3f} s   two threads {:6.3f} s   speed-up {:4.2f}x\n",
               name(kind), a, b, a / b);
  }
}

// How long the I/O thread (thread 0) took, from its first span to its last.
double first_thread_time(const Interpreter& interpreter) {
  Clock::time_point first = Clock::time_point::max(), last{};
  for (const auto& span : interpreter.trace().spans()) {
    if (span.thread != 0) continue;
    first = std::min(first, span.start);
    last = std::max(last, span.end);
  }
  return seconds(last - first);
}

void convoy(int ios, bool quick) {
  std::atomic<bool> io_done{false};
  Program io_bound;
  for (int i = 0; i < ios; ++i) {
    io_bound.push_back(Io{100us, {}});  // a short I/O (say, a small read from a fast socket)
    io_bound.push_back(Cpu{1});         // handling what it read
  }
  io_bound.push_back(Io{0us, [&] { io_done = true; }});
  // The CPU-bound thread runs for as long as the I/O thread is busy.
  const Program cpu_bound{Cpu{1 << 30, &io_done}};
  fmt::print("\n2. The convoy effect: {} I/Os of 100 us, each followed by 1 unit of bytecode\n",
             ios);
  // The tick GIL can starve the I/O thread for seconds: left out of a quick run.
  const std::vector<GilKind> kinds =
      quick ? std::vector{GilKind::Modern} : std::vector{GilKind::Modern, GilKind::Ticks};
  const int repeats = quick ? 1 : 3;
  for (GilKind kind : kinds) {
    std::vector<double> alone_times, beside_times;
    for (int r = 0; r < repeats; ++r) {
      Gil alone_gil(kind);
      Interpreter alone(alone_gil);
      io_done = false;
      alone.run({io_bound});
      Gil gil(kind);
      Interpreter beside(gil);
      io_done = false;
      beside.run({io_bound, cpu_bound});
      alone_times.push_back(first_thread_time(alone));
      beside_times.push_back(first_thread_time(beside));
    }
    const double a = median(alone_times), b = median(beside_times);
    const auto [low, high] = std::minmax_element(beside_times.begin(), beside_times.end());
    fmt::print(
        "   {}  alone {:6.3f} s   beside a CPU-bound thread {:6.3f} s   {:6.1f}x slower "
        "({:.2f} ms per I/O{})\n",
        name(kind), a, b, b / a, 1000 * b / ios,
        repeats > 1 ? fmt::format("; median of {}, from {:.3f} to {:.3f} s", repeats, *low, *high)
                    : "");
  }
}

// ---- the timeline -----------------------------------------------------------------------------

struct Timeline {
  std::vector<support::Span> spans;
  Clock::time_point start;
  double length;  // seconds
  int threads;
};

Timeline record_timeline() {
  Gil gil(GilKind::Modern);
  Interpreter interpreter(gil);
  Program io_bound;
  for (int i = 0; i < 6; ++i) {
    io_bound.push_back(Io{1ms, {}});
    io_bound.push_back(Cpu{1});
  }
  interpreter.run({{Cpu{20000}}, {Cpu{20000}}, io_bound});
  Timeline t{interpreter.trace().spans(), Clock::time_point::max(), 0, 3};
  Clock::time_point end{};
  for (const auto& s : t.spans) {
    t.start = std::min(t.start, s.start);
    end = std::max(end, s.end);
  }
  t.length = seconds(end - t.start);
  return t;
}

// The state a thread spent most of a slice of time in, or -1 if none.
int state_in(const Timeline& t, int thread, double from, double to) {
  double in[3] = {0, 0, 0};
  for (const auto& s : t.spans) {
    if (s.thread != thread) continue;
    const double a = std::max(from, seconds(s.start - t.start));
    const double b = std::min(to, seconds(s.end - t.start));
    if (b > a) in[static_cast<int>(s.state)] += b - a;
  }
  const int most = static_cast<int>(std::max_element(in, in + 3) - in);
  return in[most] > 0 ? most : -1;
}

void draw(const Timeline& t) {
  const bool colour = isatty(STDOUT_FILENO) != 0;  // no escape codes in a log file
  constexpr int kColumns = 72;
  fmt::print("\n3. Who held the GIL: two CPU-bound threads and one doing 1 ms I/Os, {:.0f} ms\n",
             1000 * t.length);
  const fmt::text_style styles[3] = {fg(fmt::color::lime_green), fg(fmt::color::crimson),
                                     fg(fmt::color::royal_blue)};
  const char* marks[3] = {"#", ".", "~"};
  const char* names[3] = {"cpu 0", "cpu 1", "i/o  "};
  for (int thread = 0; thread < t.threads; ++thread) {
    fmt::print("   {} |", names[thread]);
    for (int c = 0; c < kColumns; ++c) {
      const int state = state_in(t, thread, t.length * c / kColumns, t.length * (c + 1) / kColumns);
      if (state < 0) {
        fmt::print(" ");
      } else if (colour) {
        fmt::print(styles[state], "{}", marks[state]);
      } else {
        fmt::print("{}", marks[state]);
      }
    }
    fmt::print("|\n");
  }
  const char* legend[3] = {"# running bytecode (holds the GIL)", ". waiting for the GIL",
                           "~ in I/O (GIL released)"};
  for (int state = 0; state < 3; ++state) {
    fmt::print("   ");
    if (colour) {
      fmt::print(styles[state], "{}", legend[state]);
    } else {
      fmt::print("{}", legend[state]);
    }
  }
  fmt::print("\n");
}

bool write_svg(const Timeline& t, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return false;
  constexpr double kWidth = 900, kRow = 40, kLeft = 70;
  const char* colours[3] = {"#2e9e44", "#d1344b", "#3b64d6"};
  const char* names[3] = {"cpu 0", "cpu 1", "i/o"};
  const double height = kRow * t.threads + 50;
  fmt::print(file,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
             "font-family=\"sans-serif\" font-size=\"13\">\n",
             kLeft + kWidth + 20, height);
  for (int thread = 0; thread < t.threads; ++thread) {
    fmt::print(file, "<text x=\"5\" y=\"{}\">{}</text>\n", kRow * thread + 25, names[thread]);
  }
  for (const auto& s : t.spans) {
    const double x = kLeft + kWidth * seconds(s.start - t.start) / t.length;
    const double w = std::max(0.5, kWidth * seconds(s.end - s.start) / t.length);
    fmt::print(file, "<rect x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"/>\n",
               x, kRow * s.thread + 10, w, kRow - 16, colours[static_cast<int>(s.state)]);
  }
  fmt::print(file,
             "<text x=\"{}\" y=\"{}\">0 ms</text><text x=\"{}\" y=\"{}\" "
             "text-anchor=\"end\">{:.1f} ms</text>\n",
             kLeft, height - 20, kLeft + kWidth, height - 20, 1000 * t.length);
  fmt::print(file,
             "<text x=\"{}\" y=\"{}\"><tspan fill=\"{}\">running</tspan>  <tspan "
             "fill=\"{}\">waiting for the GIL</tspan>  <tspan fill=\"{}\">in I/O</tspan></text>\n",
             kLeft + 200, height - 20, colours[0], colours[1], colours[2]);
  fmt::print(file, "</svg>\n");
  return std::fclose(file) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string svg = "gil-timeline.svg";
  bool svg_asked = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--svg") == 0 && i + 1 < argc) {
      svg = argv[++i];
      svg_asked = true;
    } else {
      fmt::print(stderr, "usage: {} [--quick] [--svg <file>]\n", argv[0]);
      return 2;
    }
  }
  cpu_bound(quick ? 3000 : 100000, quick ? 1 : 5);
  convoy(quick ? 10 : 100, quick);
  const Timeline timeline = record_timeline();
  draw(timeline);
  if (!quick || svg_asked) {
    if (!write_svg(timeline, svg)) {
      fmt::print(stderr, "could not write {}\n", svg);
      return 1;
    }
    fmt::print("\nThe same timeline as a picture: {}\n", svg);
  }
  return 0;
}
