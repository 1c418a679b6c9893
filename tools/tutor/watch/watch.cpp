#include "watch.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "../builder.hpp"
#include "../console.hpp"
#include "../gtest_runner.hpp"
#include "../jobs.hpp"
#include "../state.hpp"
#include "../subprocess.hpp"
#include "file_watch.hpp"
#include "job_runner.hpp"
#include "screen.hpp"
#include "terminal.hpp"

namespace tutor::watch {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How long the files must stay quiet after an event before the kata is graded again: editors
// write a file in several steps (write a copy, rename it over, set its mode).
constexpr auto kSettle = std::chrono::milliseconds(60);

// ---- Signals reach the loop through a pipe it polls -------------------------------------------

int signal_pipe[2] = {-1, -1};
volatile sig_atomic_t ending_signal = 0;
constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kOtherSignals[] = {SIGWINCH, SIGCONT};
struct sigaction previous_ending[std::size(kEndingSignals)];
struct sigaction previous_other[std::size(kOtherSignals)];

void on_signal(int sig) {
  for (std::size_t i = 0; i < std::size(kEndingSignals); ++i) {
    if (kEndingSignals[i] != sig) continue;
    if (ending_signal != 0) {
      // A second one while the loop is already stopping: end at once, the tutor's usual way
      // (run_command's handler kills the groups it knows and raises the signal again).
      restore_terminal_now();
      const struct sigaction& old = previous_ending[i];
      if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
        old.sa_handler(sig);
        return;
      }
      signal(sig, SIG_DFL);
      raise(sig);
      return;
    }
    ending_signal = sig;
  }
  const unsigned char byte = static_cast<unsigned char>(sig);
  (void)!write(signal_pipe[1], &byte, 1);
}

class SignalRoute {
 public:
  SignalRoute() {
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::runtime_error("cannot make a pipe for signals");
    // run_command installs its own SIGINT/SIGTERM/SIGHUP handlers the first time it runs; run a
    // harmless command first so that ours, installed after, are the ones that stay.
    RunRequest harmless;
    harmless.argv = {"/bin/true"};
    run_command(harmless);
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(kEndingSignals); ++i)
      sigaction(kEndingSignals[i], &action, &previous_ending[i]);
    for (std::size_t i = 0; i < std::size(kOtherSignals); ++i)
      sigaction(kOtherSignals[i], &action, &previous_other[i]);
  }
  ~SignalRoute() {
    for (std::size_t i = 0; i < std::size(kEndingSignals); ++i)
      sigaction(kEndingSignals[i], &previous_ending[i], nullptr);
    for (std::size_t i = 0; i < std::size(kOtherSignals); ++i)
      sigaction(kOtherSignals[i], &previous_other[i], nullptr);
    for (int& fd : signal_pipe) {
      close(fd);
      fd = -1;
    }
  }
  SignalRoute(const SignalRoute&) = delete;
  SignalRoute& operator=(const SignalRoute&) = delete;
  int fd() const { return signal_pipe[0]; }
};

// ---- Small helpers ------------------------------------------------------------------------------

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "\x01missing";  // differs from any content, including an empty file
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string find_program(const std::string& name) {
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':'))
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

Style status_style(Status status) {
  switch (status) {
    case Status::Pass:
      return Style::Green;
    case Status::Fail:
      return Style::Red;
    default:
      return Style::Magenta;
  }
}

Line status_line(Status status, const std::string& text, const std::string& indent = "  ") {
  Line line;
  line.lead = indent + fmt::format("{:<8}", status_name(status));
  line.lead_style = status_style(status);
  line.text = text;
  return line;
}

Event event_of(Event::Kind kind) {
  Event event;
  event.kind = kind;
  return event;
}

const std::set<std::string> kKnownStatuses = {"PASS",  "FAIL",        "TIMEOUT",
                                              "CRASH", "BUILD ERROR", "NOT RUN"};

// ---- The loop
// ------------------------------------------------------------------------------------

class Loop {
 public:
  Loop(const Manifest& manifest, const Paths& paths, const Options& options)
      : manifest_(manifest),
        paths_(paths),
        state_file_(paths.state_dir / "tutor-state.json"),
        files_(options.force_polling) {}

  int run();

 private:
  enum class Job { None, Startup, Grade, Demos, BuildOutput };
  enum class Panel { None, Hint, List, Output, Message, Demos };
  enum class Prompt { None, Reset, Solution };

  // State kept in tutor-state.json; a corrupt or stale file is rebuilt from what is valid in it.
  void rebuild_state();
  void remember(const std::string& kata, Status status);
  int passed_count() const;
  bool all_pass() const;

  // Jobs.
  void start_startup();
  void start_grade(int kata);
  void start_demos();
  void start_build_output();
  void apply(const Event& event);
  void on_kata_done(const Event& event);

  // Keys and their actions.
  void on_input(const std::string& bytes);
  void on_key(char key);
  void next_kata();
  void show_hint();
  void reset_kata();
  void show_solution();
  void message(std::vector<Line> lines);

  // The files of a kata, and whether they changed since they were last graded.
  std::vector<fs::path> kata_files(int kata) const;
  std::vector<std::string> contents(int kata) const;
  void watch_kata(int kata);

  // Drawing.
  void render();
  std::vector<Line> header() const;
  std::vector<Line> grade_section() const;
  std::vector<Line> output_section() const;
  std::vector<Line> panel_lines() const;
  std::vector<Line> footer() const;
  std::string lesson_link(const Kata& kata) const;
  std::vector<Line> lesson_done_lines(int kata) const;
  std::vector<Line> closing_lines() const;
  std::string farewell_summary() const;

  const Manifest& manifest_;
  const Paths& paths_;
  fs::path state_file_;
  FileWatch files_;
  JobRunner jobs_;
  std::optional<RawTerminal> terminal_;
  bool colour_ = true;
  std::size_t cols_ = 80;  // the terminal's width when the frame is drawn

  std::map<std::string, std::string> statuses_;  // kata id -> last status (as in the state)
  int current_ = 0;
  bool landed_ = false;  // the startup has shown its first kata
  Job job_ = Job::None;
  int build_done_ = 0, build_total_ = 0;

  // The current kata's grading: what has arrived so far and the result once it is there.
  struct Verdicts {
    std::vector<TestResult> plain, tsan;
    int expected = 0;  // tests named in the test file
    std::string note;  // "built in 1.1 s"
    std::optional<KataResult> result;
    Clock::time_point started;
    double plain_seconds = 0;  // when the plain verdict was complete, from `started`
    double all_seconds = 0;    // when the whole verdict was
  } verdicts_;
  std::vector<std::string> graded_contents_;  // of the current kata's files, as last graded
  std::optional<Clock::time_point> settle_until_;
  Clock::time_point next_look_;

  Panel panel_ = Panel::None;
  std::vector<Line> message_;
  std::string demo_output_;
  std::string build_output_;
  Prompt prompt_ = Prompt::None;
  int offset_ = 0;
  bool follow_tail_ = false;
  bool quit_ = false;
  bool dirty_ = true;
};

// ---- State -------------------------------------------------------------------------------------

void Loop::rebuild_state() {
  // Keep what is valid (hints within range, known statuses of katas in the manifest) and write
  // it afresh: a corrupt file reads as empty, stale entries are dropped. The verdicts of the
  // katas up to the current one are then replaced by fresh ones as the startup grades them.
  State old(state_file_);
  std::error_code ignored;
  fs::remove(state_file_, ignored);
  State fresh(state_file_);
  for (const auto& kata : manifest_.katas) {
    const int hints = std::clamp(old.hints_shown(kata.id), 0, static_cast<int>(kata.hints.size()));
    if (hints > 0) fresh.set_hints_shown(kata.id, hints);
    const std::string status = old.last_status(kata.id);
    if (kKnownStatuses.count(status)) {
      fresh.set_last_status(kata.id, status);
      statuses_[kata.id] = status;
    }
  }
  fresh.save();
}

void Loop::remember(const std::string& kata, Status status) {
  statuses_[kata] = status_name(status);
  State state(state_file_);
  state.set_last_status(kata, status_name(status));
  state.save();
}

int Loop::passed_count() const {
  int passed = 0;
  for (const auto& kata : manifest_.katas) {
    auto found = statuses_.find(kata.id);
    passed += found != statuses_.end() && found->second == "PASS" ? 1 : 0;
  }
  return passed;
}

bool Loop::all_pass() const { return passed_count() == static_cast<int>(manifest_.katas.size()); }

// ---- Files
// ---------------------------------------------------------------------------------------

std::vector<fs::path> Loop::kata_files(int kata) const {
  std::vector<fs::path> files;
  const Kata& k = manifest_.katas[kata];
  for (const auto& file : k.files) files.push_back(paths_.source_dir / "katas" / k.dir / file);
  return files;
}

std::vector<std::string> Loop::contents(int kata) const {
  std::vector<std::string> texts;
  for (const auto& file : kata_files(kata)) texts.push_back(read_text(file));
  return texts;
}

void Loop::watch_kata(int kata) { files_.watch(kata_files(kata)); }

// ---- Jobs
// ----------------------------------------------------------------------------------------

void Loop::start_startup() {
  job_ = Job::Startup;
  jobs_.start([this](const JobRunner::Post& post, const std::atomic<bool>& cancelled) {
    build_targets(paths_.build_dir, {paths_.target_prefix + "katas.all"}, /*keep_going=*/true,
                  [&](int done, int total) {
                    Event progress = event_of(Event::Kind::Progress);
                    progress.done = done;
                    progress.total = total;
                    post(std::move(progress));
                  });
    // The first kata in course order that does not pass is where the learner is.
    for (int i = 0; i < static_cast<int>(manifest_.katas.size()) && !cancelled; ++i) {
      Event started = event_of(Event::Kind::KataStarted);
      started.kata = i;
      started.contents = contents(i);  // before its build reads them: a later save grades again
      post(std::move(started));
      GradeEvents events;
      events.on_note = [&](const std::string& note) {
        Event e = event_of(Event::Kind::Note);
        e.text = note;
        post(std::move(e));
      };
      events.on_test = [&](const TestResult& test, bool under_tsan) {
        Event e = event_of(Event::Kind::Test);
        e.test = test;
        e.under_tsan = under_tsan;
        post(std::move(e));
      };
      KataResult result = grade_kata(manifest_.katas[i], paths_, GradeOptions{}, events);
      if (cancelled) return;
      const bool passed = result.status == Status::Pass;
      Event done = event_of(Event::Kind::KataDone);
      done.kata = i;
      done.result = std::move(result);
      post(std::move(done));
      if (!passed) return;
    }
  });
}

void Loop::start_grade(int kata) {
  job_ = Job::Grade;
  current_ = kata;
  landed_ = true;
  verdicts_ = {};
  verdicts_.started = Clock::now();
  verdicts_.expected = static_cast<int>(
      tests_named_in_source(paths_.source_dir / manifest_.katas[kata].test_file()).size());
  graded_contents_ = contents(kata);  // before the build reads them: a later save grades again
  if (panel_ != Panel::Hint && panel_ != Panel::Message) panel_ = Panel::None;
  offset_ = 0;
  dirty_ = true;
  jobs_.start([this, kata](const JobRunner::Post& post, const std::atomic<bool>& cancelled) {
    GradeEvents events;
    events.on_note = [&](const std::string& note) {
      Event e = event_of(Event::Kind::Note);
      e.text = note;
      post(std::move(e));
    };
    events.on_test = [&](const TestResult& test, bool under_tsan) {
      Event e = event_of(Event::Kind::Test);
      e.test = test;
      e.under_tsan = under_tsan;
      post(std::move(e));
    };
    KataResult result = grade_kata(manifest_.katas[kata], paths_, GradeOptions{}, events);
    if (cancelled) return;
    Event done = event_of(Event::Kind::KataDone);
    done.kata = kata;
    done.result = std::move(result);
    post(std::move(done));
  });
}

void Loop::start_demos() {
  const Kata& kata = manifest_.katas[current_];
  const Lesson* lesson = manifest_.find_lesson(kata.lesson);
  std::vector<std::string> stems;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(paths_.source_dir / "lessons" / lesson->dir, ec))
    if (entry.path().extension() == ".cpp") stems.push_back(entry.path().stem().string());
  std::sort(stems.begin(), stems.end());
  if (stems.empty()) {
    message({plain(fmt::format("  Lesson {} has no demos.", lesson->id))});
    return;
  }
  panel_ = Panel::Demos;
  demo_output_.clear();
  follow_tail_ = true;
  job_ = Job::Demos;
  dirty_ = true;
  jobs_.start([this, stems, lesson_id = lesson->id](const JobRunner::Post& post,
                                                    const std::atomic<bool>& cancelled) {
    auto say = [&](std::string text) {
      Event e = event_of(Event::Kind::Output);
      e.text = std::move(text);
      post(std::move(e));
    };
    std::vector<std::string> targets;
    for (const auto& stem : stems)
      targets.push_back(fmt::format("{}demo.{}.{}", paths_.target_prefix, lesson_id, stem));
    say(fmt::format("Building {} demo(s) of lesson {}...\n", targets.size(), lesson_id));
    BuildResult built = build_targets(paths_.build_dir, targets);
    if (!built.ok) {
      say("The demos did not build:\n" + built.first_error + "\n");
      return;
    }
    for (const auto& target : targets) {
      if (cancelled) return;
      say(fmt::format("\n== {}\n", target));
      RunRequest request;
      request.argv = {paths_.binary(target).string()};
      request.timeout = std::chrono::minutes(10);
      request.on_output = [&](std::string_view chunk) { say(std::string(chunk)); };
      RunResult r = run_command(request);
      if (!r.ok() && !cancelled)
        say(fmt::format("\n({} {})\n", target,
                        r.timed_out      ? "did not finish within 10 minutes"
                        : r.signal       ? "ended by " + describe_signal(r.signal)
                        : r.start_failed ? "could not start"
                                         : fmt::format("exited with code {}", r.exit_code)));
    }
    say("\nDemos done.\n");
  });
}

void Loop::start_build_output() {
  panel_ = Panel::Output;
  build_output_ = "Building again to collect the compiler's whole output...";
  job_ = Job::BuildOutput;
  dirty_ = true;
  const std::string target = target_name(paths_, Variant::Kata, manifest_.katas[current_]);
  jobs_.start([this, target](const JobRunner::Post& post, const std::atomic<bool>&) {
    BuildResult built = build_targets(paths_.build_dir, {target}, false, {}, kKataBuildLimit);
    Event e = event_of(Event::Kind::Output);
    e.text = shorten_paths(built.output, paths_.source_dir);
    post(std::move(e));
  });
}

void Loop::apply(const Event& event) {
  dirty_ = true;
  switch (event.kind) {
    case Event::Kind::Progress:
      build_done_ = event.done;
      build_total_ = event.total;
      break;
    case Event::Kind::KataStarted:
      // The startup moved on to this kata (the one before it passes).
      current_ = event.kata;
      landed_ = true;
      verdicts_ = {};
      verdicts_.started = Clock::now();
      verdicts_.expected = static_cast<int>(
          tests_named_in_source(paths_.source_dir / manifest_.katas[current_].test_file()).size());
      graded_contents_ = event.contents;
      watch_kata(current_);
      break;
    case Event::Kind::Note:
      verdicts_.note = event.text;
      break;
    case Event::Kind::Test:
      if (event.under_tsan) {
        verdicts_.tsan.push_back(event.test);
      } else {
        verdicts_.plain.push_back(event.test);
        if (static_cast<int>(verdicts_.plain.size()) == verdicts_.expected)
          verdicts_.plain_seconds =
              std::chrono::duration<double>(Clock::now() - verdicts_.started).count();
      }
      break;
    case Event::Kind::KataDone:
      on_kata_done(event);
      break;
    case Event::Kind::Output:
      if (job_ == Job::BuildOutput) {
        build_output_ = event.text;
      } else {
        demo_output_ += event.text;
        if (demo_output_.size() > 1024 * 1024) demo_output_.erase(0, demo_output_.size() / 2);
      }
      break;
    case Event::Kind::Error:
      message(text_lines("The tutor could not finish: " + event.text, "  ", Style::Red));
      break;
    case Event::Kind::Finished:
      job_ = Job::None;
      break;
  }
}

void Loop::on_kata_done(const Event& event) {
  const Kata& kata = manifest_.katas[event.kata];
  verdicts_.result = event.result;
  verdicts_.all_seconds = std::chrono::duration<double>(Clock::now() - verdicts_.started).count();
  if (verdicts_.plain_seconds == 0) verdicts_.plain_seconds = verdicts_.all_seconds;
  remember(kata.id, event.result.status);
  if (event.result.status != Status::Pass) return;
  const bool startup = job_ == Job::Startup;
  const bool last_of_lesson = event.kata + 1 == static_cast<int>(manifest_.katas.size()) ||
                              manifest_.katas[event.kata + 1].lesson != kata.lesson;
  if (all_pass()) {
    if (!startup || event.kata + 1 == static_cast<int>(manifest_.katas.size()))
      message(closing_lines());
  } else if (!startup && last_of_lesson) {
    message(lesson_done_lines(event.kata));
  }
}

// ---- Keys
// ----------------------------------------------------------------------------------------

void Loop::on_input(const std::string& bytes) {
  const int page = std::max(3, (terminal_ ? terminal_->size().rows : 24) - 10);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\x1b') {
      // Arrow and page keys: ESC [ A (or ESC O A), ESC [ B, ESC [ 5 ~, ESC [ 6 ~. Other
      // sequences, and a lone ESC, do nothing.
      std::string sequence;
      if (i + 1 < bytes.size() && (bytes[i + 1] == '[' || bytes[i + 1] == 'O')) {
        std::size_t j = i + 2;
        while (j < bytes.size() && !(bytes[j] >= 0x40 && bytes[j] <= 0x7e)) sequence += bytes[j++];
        if (j < bytes.size()) sequence += bytes[j];
        i = j;
      }
      const int move = sequence == "A"    ? -1
                       : sequence == "B"  ? 1
                       : sequence == "5~" ? -page
                       : sequence == "6~" ? page
                                          : 0;
      if (move != 0) {
        offset_ += move;
        follow_tail_ = false;
        dirty_ = true;
      }
      continue;
    }
    on_key(bytes[i]);
    if (quit_) return;
  }
}

void Loop::on_key(char key) {
  dirty_ = true;
  if (key == 'q' || key == '\x03' || key == '\x04') {  // q, Ctrl-C, Ctrl-D
    quit_ = true;
    return;
  }
  if (prompt_ != Prompt::None) {
    const Prompt asked = prompt_;
    prompt_ = Prompt::None;
    if (key != 'y' && key != 'Y') {
      message(
          {plain(asked == Prompt::Reset ? "  Nothing was reset." : "  The solution stays hidden.",
                 Style::Dim)});
      return;
    }
    if (asked == Prompt::Reset) reset_kata();
    if (asked == Prompt::Solution) show_solution();
    return;
  }
  if (!landed_) {  // still building everything: only q means something yet
    dirty_ = false;
    return;
  }
  const Kata& kata = manifest_.katas[current_];
  const bool passed = verdicts_.result && verdicts_.result->status == Status::Pass;
  switch (key) {
    case 'n':
      if (!passed) {
        message({plain(fmt::format("  n moves on once kata {} passes{}. h gives a hint.", kata.id,
                                   verdicts_.result ? "" : " (it is still being graded)"))});
        return;
      }
      next_kata();
      return;
    case 'h':
      show_hint();
      return;
    case 'l':
      panel_ = panel_ == Panel::List ? Panel::None : Panel::List;
      offset_ = 0;
      return;
    case 'o':
      if (panel_ == Panel::Output) {
        panel_ = Panel::None;
      } else if (verdicts_.result && verdicts_.result->status == Status::BuildError &&
                 job_ == Job::None) {
        start_build_output();
      } else {
        panel_ = Panel::Output;
      }
      offset_ = 0;
      return;
    case 'r':
      start_grade(current_);
      return;
    case 'x':
      prompt_ = Prompt::Reset;
      return;
    case 's':
      if (!passed) {
        message(
            {plain(fmt::format("  s shows the solution once kata {} passes: working it out is "
                               "the point. h gives a hint.",
                               kata.id))});
        return;
      }
      prompt_ = Prompt::Solution;
      return;
    case 'd':
      if (job_ == Job::Grade || job_ == Job::Startup) {
        message({plain("  d runs the lesson's demos once this grading has finished.")});
        return;
      }
      start_demos();
      return;
    case 'j':
      offset_ += 1;
      follow_tail_ = false;
      return;
    case 'k':
      offset_ -= 1;
      follow_tail_ = false;
      return;
    default:
      dirty_ = false;
      return;
  }
}

void Loop::message(std::vector<Line> lines) {
  panel_ = Panel::Message;
  message_ = std::move(lines);
  offset_ = 0;
  dirty_ = true;
}

void Loop::next_kata() {
  int next = current_ + 1;
  if (next >= static_cast<int>(manifest_.katas.size())) {
    if (all_pass()) {
      message(closing_lines());
      return;
    }
    // The last kata passes but an earlier one does not (it was reset, or its file changed).
    next = 0;
    auto passes = [&](int i) {
      auto found = statuses_.find(manifest_.katas[i].id);
      return found != statuses_.end() && found->second == "PASS";
    };
    while (passes(next)) ++next;
  }
  panel_ = Panel::None;
  watch_kata(next);
  start_grade(next);
}

void Loop::show_hint() {
  const Kata& kata = manifest_.katas[current_];
  State state(state_file_);
  const int count = static_cast<int>(kata.hints.size());
  // One more each time, as `make hint` does; the panel shows every hint seen so far.
  state.set_hints_shown(kata.id, std::min(state.hints_shown(kata.id) + 1, count));
  state.save();
  panel_ = Panel::Hint;
  offset_ = 0;
}

void Loop::reset_kata() {
  const Kata& kata = manifest_.katas[current_];
  jobs_.cancel();
  job_ = Job::None;
  // `tutor reset` does it (the starter from git, the learner's files to backups/ first): the
  // same program, with the same course and folders.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  RunRequest request;
  request.argv = {n > 0 ? std::string(self, static_cast<std::size_t>(n)) : "tutor",
                  "--course",
                  paths_.source_dir.string(),
                  "--target-prefix",
                  paths_.target_prefix,
                  "--state-dir",
                  paths_.state_dir.string(),
                  "reset",
                  kata.id};
  request.timeout = std::chrono::seconds(60);
  request.extra_env["NO_COLOR"] = "1";
  RunResult r = run_command(request);
  std::vector<Line> lines = text_lines(r.output, "  ", r.ok() ? Style::Plain : Style::Red);
  if (!r.ok()) lines.insert(lines.begin(), plain("  The reset did not happen:", Style::Red));
  start_grade(current_);
  message(std::move(lines));
}

void Loop::show_solution() {
  const Kata& kata = manifest_.katas[current_];
  std::vector<Line> lines;
  const std::string diff = find_program("diff");
  const std::string git = find_program("git");
  for (const auto& file : kata.files) {
    const std::string mine = "katas/" + kata.dir + "/" + file;
    const std::string theirs = "solutions/" + kata.dir + "/" + file;
    RunRequest request;
    if (!diff.empty()) {
      request.argv = {diff,
                      "-u",
                      "--label",
                      mine,
                      "--label",
                      theirs,
                      (paths_.source_dir / mine).string(),
                      (paths_.source_dir / theirs).string()};
    } else if (!git.empty()) {
      request.argv = {git, "diff", "--no-index", "--no-color", "--", mine, theirs};
      request.working_dir = paths_.source_dir.string();
    } else {
      message({plain("  Showing the solution as a diff needs diff or git; neither is installed.",
                     Style::Red)});
      return;
    }
    request.timeout = std::chrono::seconds(30);
    RunResult r = run_command(request);
    if (r.exit_code == 0) {
      lines.push_back(plain(fmt::format("  {} is the same as {}.", mine, theirs)));
      continue;
    }
    if (r.exit_code != 1) {
      lines.push_back(plain("  The diff failed: " + one_line(r.output, 200), Style::Red));
      continue;
    }
    for (Line line : text_lines(r.output, "  ")) {
      if (line.text.rfind("+++", 0) == 0 || line.text.rfind("---", 0) == 0)
        line.style = Style::Bold;
      else if (line.text.rfind("+", 0) == 0)
        line.style = Style::Green;
      else if (line.text.rfind("-", 0) == 0)
        line.style = Style::Red;
      else if (line.text.rfind("@@", 0) == 0)
        line.style = Style::Cyan;
      lines.push_back(std::move(line));
    }
  }
  lines.insert(
      lines.begin(),
      plain("  The solution as a diff against your file (- yours, + the solution):", Style::Bold));
  message(std::move(lines));
}

// ---- Drawing
// -------------------------------------------------------------------------------------

std::string Loop::lesson_link(const Kata& kata) const {
  // The kata file's second line names its lesson section: "// Lesson: lessons/...#section".
  for (const char* side : {"katas", "solutions"}) {
    std::ifstream in(paths_.source_dir / side / kata.dir / kata.files.front());
    std::string line;
    for (int i = 0; i < 5 && std::getline(in, line); ++i)
      if (line.rfind("// Lesson: ", 0) == 0) return line.substr(11);
  }
  const Lesson* lesson = manifest_.find_lesson(kata.lesson);
  return "lessons/" + lesson->dir + "/README.md";
}

std::vector<Line> Loop::header() const {
  std::vector<Line> lines;
  if (!landed_) {
    lines.push_back(
        plain("Starting: the first kata that does not pass yet is where you are.", Style::Bold));
    return lines;
  }
  const Kata& kata = manifest_.katas[current_];
  const Lesson* lesson = manifest_.find_lesson(kata.lesson);
  lines.push_back(plain(fmt::format("Kata {} · {}", kata.id, kata.title), Style::Bold));
  lines.push_back(plain(fmt::format("  Read   {}  ({})", lesson_link(kata), lesson->title)));
  for (const auto& file : kata.files)
    lines.push_back(plain(fmt::format("  Edit   katas/{}/{}", kata.dir, file)));
  lines.push_back(plain(fmt::format("  {}/{} katas · lesson {} · {}", passed_count(),
                                    manifest_.katas.size(), kata.lesson, files_.describe()),
                        Style::Dim));
  lines.push_back(blank());
  return lines;
}

std::vector<Line> Loop::grade_section() const {
  std::vector<Line> lines;
  const Kata& kata = manifest_.katas[current_];
  // One row per test: its message's last line, cut to what the row leaves (o shows it all).
  auto test_line = [&](const TestResult& t) {
    const std::string seconds = fmt::format(" ({:.1f} s)", t.seconds);
    std::string text = t.name;
    const std::size_t used = 10 + columns(text) + 2 + seconds.size() + 1;
    if (t.status != Status::Pass)
      text += ": " + one_line(t.summary.empty() ? t.message : t.summary,
                              std::max<std::size_t>(cols_ > used ? cols_ - used : 0, 30));
    return status_line(t.status, text + seconds);
  };
  for (const auto& t : verdicts_.plain) lines.push_back(test_line(t));
  if (!verdicts_.tsan.empty()) {
    lines.push_back(plain("  under ThreadSanitizer:", Style::Dim));
    for (const auto& t : verdicts_.tsan) lines.push_back(test_line(t));
  }
  if (!lines.empty()) lines.push_back(blank());

  const int plain_count = static_cast<int>(verdicts_.plain.size());
  if (!verdicts_.result) {
    if (verdicts_.note.empty() && plain_count == 0) {
      lines.push_back(plain(fmt::format("  Building kata {}...", kata.id), Style::Dim));
    } else if (plain_count < verdicts_.expected || verdicts_.expected == 0) {
      lines.push_back(
          plain(fmt::format("  Running the tests ({})...", verdicts_.note), Style::Dim));
    } else {
      const Status plain_status = overall_status(verdicts_.plain);
      const int plain_passed = static_cast<int>(
          std::count_if(verdicts_.plain.begin(), verdicts_.plain.end(),
                        [](const TestResult& t) { return t.status == Status::Pass; }));
      Line line = status_line(
          plain_status, fmt::format("plain run: {} of {} tests pass ({:.1f} s){}", plain_passed,
                                    plain_count, verdicts_.plain_seconds,
                                    plain_passed > 0 && kata.tsan
                                        ? " · ThreadSanitizer runs the passing ones again..."
                                        : ""));
      lines.push_back(line);
    }
    return lines;
  }

  const KataResult& r = *verdicts_.result;
  const std::string seconds =
      kata.tsan && verdicts_.all_seconds > verdicts_.plain_seconds + 0.05
          ? fmt::format("plain verdict in {:.1f} s, ThreadSanitizer's in {:.1f} s",
                        verdicts_.plain_seconds, verdicts_.all_seconds)
          : fmt::format("{:.1f} s", verdicts_.all_seconds);
  if (r.status == Status::Pass) {
    lines.push_back(status_line(
        Status::Pass, fmt::format("all {} tests pass{} ({}). n: the next kata.", r.tests.size(),
                                  kata.tsan ? ", plain and under ThreadSanitizer" : "", seconds)));
    return lines;
  }
  if (r.status == Status::BuildError) {
    lines.push_back(status_line(Status::BuildError, "the kata does not compile:"));
    for (auto& line : text_lines(r.message, "    ")) lines.push_back(std::move(line));
    lines.push_back(blank());
    lines.push_back(
        plain("  o: the compiler's whole output · save the file to try again", Style::Dim));
    return lines;
  }
  lines.push_back(status_line(
      r.status, fmt::format("{} of {} tests do not pass ({}). What tells most:", r.failed(),
                            r.tests.size(), seconds)));
  std::vector<Line> headline = text_lines(r.message, "    ");
  const std::size_t kMaxLines = 14;
  const bool cut = headline.size() > kMaxLines;
  if (cut) headline.resize(kMaxLines);
  for (auto& line : headline) lines.push_back(std::move(line));
  lines.push_back(blank());
  lines.push_back(plain(fmt::format("  {}save the file to grade it again · o: the whole output · "
                                    "h: a hint",
                                    cut ? "(cut short) " : ""),
                        Style::Dim));
  return lines;
}

std::vector<Line> Loop::output_section() const {
  std::vector<Line> lines;
  if (verdicts_.result && verdicts_.result->status == Status::BuildError) {
    lines.push_back(plain("  The compiler's whole output:", Style::Bold));
    for (auto& line : text_lines(build_output_, "  ")) lines.push_back(std::move(line));
    return lines;
  }
  const std::vector<TestResult>& tests =
      verdicts_.result ? verdicts_.result->tests : verdicts_.plain;
  lines.push_back(plain(fmt::format("  Every test of kata {}{}:", manifest_.katas[current_].id,
                                    verdicts_.result ? "" : " so far"),
                        Style::Bold));
  for (const auto& t : tests) {
    lines.push_back(blank());
    lines.push_back(status_line(t.status, fmt::format("{} ({:.1f} s)", t.name, t.seconds)));
    for (auto& line : text_lines(t.message, "    ")) lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<Line> Loop::panel_lines() const {
  std::vector<Line> lines;
  const Kata& kata = manifest_.katas[current_];
  switch (panel_) {
    case Panel::None:
    case Panel::Output:
      break;
    case Panel::Message:
      lines = message_;
      break;
    case Panel::Hint: {
      State state(state_file_);
      const int count = static_cast<int>(kata.hints.size());
      const int shown = std::clamp(state.hints_shown(kata.id), 1, count);
      for (int i = 0; i < shown; ++i) {
        Line line;
        line.lead = fmt::format("  Hint {} of {}: ", i + 1, count);
        line.lead_style = Style::Yellow;
        line.text = kata.hints[i];
        lines.push_back(std::move(line));
      }
      lines.push_back(plain(shown < count ? "  (h again: a more explicit hint)"
                                          : "  (That was the last hint. s shows the solution once "
                                            "the kata passes.)",
                            Style::Dim));
      break;
    }
    case Panel::List: {
      std::string lesson_id;
      for (std::size_t i = 0; i < manifest_.katas.size(); ++i) {
        const Kata& k = manifest_.katas[i];
        if (k.lesson != lesson_id) {
          lesson_id = k.lesson;
          const Lesson* lesson = manifest_.find_lesson(lesson_id);
          lines.push_back(
              plain(fmt::format("  Lesson {} · {}", lesson->id, lesson->title), Style::Bold));
        }
        auto found = statuses_.find(k.id);
        const std::string status = found == statuses_.end() ? "not graded" : found->second;
        Line line;
        line.lead = fmt::format("  {} {}  {:<11} ", static_cast<int>(i) == current_ ? ">" : " ",
                                k.id, status);
        line.lead_style = status == "PASS"         ? Style::Green
                          : status == "not graded" ? Style::Dim
                                                   : Style::Red;
        line.text = k.title;
        lines.push_back(std::move(line));
      }
      lines.push_back(plain(fmt::format("  {} of {} katas pass. l closes this list.",
                                        passed_count(), manifest_.katas.size()),
                            Style::Dim));
      break;
    }
    case Panel::Demos:
      lines = text_lines(demo_output_, "  ");
      if (job_ == Job::Demos)
        lines.push_back(plain("  (running: r or a save stops the demos)", Style::Dim));
      break;
  }
  return lines;
}

std::vector<Line> Loop::lesson_done_lines(int kata) const {
  const Kata& done = manifest_.katas[kata];
  const Lesson* lesson = manifest_.find_lesson(done.lesson);
  std::vector<Line> lines;
  // What the lesson taught, in two lines: its title and what its katas made you do.
  lines.push_back(
      plain(fmt::format("  Lesson {} is done: {}.", lesson->id, lesson->title), Style::Green));
  std::string katas;
  for (const auto& k : manifest_.katas)
    if (k.lesson == done.lesson) katas += (katas.empty() ? "" : "; ") + k.title;
  lines.push_back(plain(fmt::format("  You made its katas pass: {}.", katas)));
  if (kata + 1 < static_cast<int>(manifest_.katas.size())) {
    const Kata& next = manifest_.katas[kata + 1];
    const Lesson* next_lesson = manifest_.find_lesson(next.lesson);
    lines.push_back(plain(fmt::format("  Next: lessons/{}/README.md ({}); n starts kata {}.",
                                      next_lesson->dir, next_lesson->title, next.id),
                          Style::Bold));
  } else {
    lines.push_back(plain(fmt::format("  {} of {} katas pass; l shows which do not.",
                                      passed_count(), manifest_.katas.size())));
  }
  return lines;
}

std::vector<Line> Loop::closing_lines() const {
  std::vector<Line> lines;
  lines.push_back(
      plain(fmt::format("  Every kata passes: {} of {}.", passed_count(), manifest_.katas.size()),
            Style::Green));
  if (!manifest_.farewell.empty()) lines.push_back(plain("  " + manifest_.farewell));
  if (manifest_.farewell.find("make bench") == std::string::npos)
    lines.push_back(plain("  `make bench` measures what the lessons claim, on your machine."));
  lines.push_back(plain("  q quits.", Style::Dim));
  return lines;
}

std::vector<Line> Loop::footer() const {
  std::vector<Line> lines;
  const Kata& kata = manifest_.katas[current_];
  if (prompt_ == Prompt::Reset) {
    lines.push_back(plain(fmt::format("Reset kata {} to its starter? Your files are copied to {}/ "
                                      "first. y: yes, any other key: no",
                                      kata.id, (paths_.state_dir / "backups").string()),
                          Style::Yellow));
  } else if (prompt_ == Prompt::Solution) {
    lines.push_back(plain(fmt::format("Show the solution of kata {} as a diff against your file? "
                                      "y: yes, any other key: no",
                                      kata.id),
                          Style::Yellow));
  } else {
    lines.push_back(
        plain("n next · h hint · o output · l list · r re-run · x reset · s solution · "
              "d demos · q quit",
              Style::Dim));
  }
  return lines;
}

void Loop::render() {
  if (!dirty_ || !terminal_) return;
  dirty_ = false;
  const RawTerminal::Size size = terminal_->size();
  cols_ = static_cast<std::size_t>(size.cols);
  Frame frame;
  frame.header = header();
  if (!landed_) {
    if (!manifest_.welcome.empty()) {
      frame.body.push_back(plain(manifest_.welcome));
      frame.body.push_back(blank());
    }
    frame.body.push_back(plain(build_total_ > 0 ? fmt::format("  Building the katas: {}/{} steps",
                                                              build_done_, build_total_)
                                                : "  Building the katas...",
                               Style::Dim));
  } else if (panel_ == Panel::Output) {
    frame.body = output_section();
  } else {
    frame.body = grade_section();
    std::vector<Line> panel = panel_lines();
    if (!panel.empty()) {
      frame.body.push_back(blank());
      for (auto& line : panel) frame.body.push_back(std::move(line));
    }
  }
  frame.footer = footer();
  const bool tail = follow_tail_ && panel_ == Panel::Demos;
  if (!write_all(STDOUT_FILENO, compose(frame, size.rows, size.cols, colour_, offset_, tail)))
    quit_ = true;  // the terminal is gone
}

std::string Loop::farewell_summary() const {
  if (!landed_) return "Stopped before the first kata was graded. `make start` starts again.\n";
  const Kata& kata = manifest_.katas[current_];
  auto found = statuses_.find(kata.id);
  return fmt::format("Kata {} · {}: {}. {} of {} katas pass. `make start` picks up from here.\n",
                     kata.id, kata.title, found == statuses_.end() ? "not graded" : found->second,
                     passed_count(), manifest_.katas.size());
}

int Loop::run() {
  if (manifest_.katas.empty()) throw std::runtime_error("the course has no katas");
  rebuild_state();
  // Every test of a kata at once, as `make test KATA=` does: a hanging kata costs one deadline.
  JobSlots::set_size(64);
  SignalRoute signals;
  colour_ = use_colour(stdout);
  std::fflush(stdout);
  terminal_.emplace(STDIN_FILENO, STDOUT_FILENO);
  write_all(STDOUT_FILENO, "\x1b[H\x1b[2J");
  watch_kata(0);
  start_startup();
  next_look_ = Clock::now() + files_.interval();

  while (!quit_ && ending_signal == 0) {
    render();
    const auto now = Clock::now();
    auto wake_at = next_look_;
    if (settle_until_ && *settle_until_ < wake_at) wake_at = *settle_until_;
    const int timeout_ms = static_cast<int>(std::clamp<long long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now).count() + 1, 0, 1000));
    pollfd fds[4] = {{STDIN_FILENO, POLLIN, 0},
                     {jobs_.wake_fd(), POLLIN, 0},
                     {signals.fd(), POLLIN, 0},
                     {files_.fd(), POLLIN, 0}};
    const int ready = poll(fds, files_.fd() >= 0 ? 4 : 3, timeout_ms);
    if (ready < 0 && errno != EINTR) break;

    if (ready > 0 && (fds[2].revents & POLLIN)) {
      unsigned char sig;
      while (read(signals.fd(), &sig, 1) == 1) {
        if (sig == SIGCONT) terminal_->reapply();
        dirty_ = true;  // SIGWINCH, SIGCONT: draw again
      }
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buffer[64];
      const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
      if (n <= 0 && !(n < 0 && errno == EINTR)) {
        quit_ = true;  // the terminal is gone
        break;
      }
      if (n > 0) on_input(std::string(buffer, static_cast<std::size_t>(n)));
    }
    if (ready > 0 && (fds[1].revents & POLLIN))
      for (const Event& event : jobs_.take()) apply(event);

    // A save of one of the current kata's files: wait until the files are quiet, then grade
    // the kata again if they differ from what was graded last.
    const bool event_ready = ready > 0 && files_.fd() >= 0 && (fds[3].revents & POLLIN);
    if (event_ready || Clock::now() >= next_look_) {
      if (files_.check()) settle_until_ = Clock::now() + kSettle;
      next_look_ = Clock::now() + files_.interval();
    }
    if (settle_until_ && Clock::now() >= *settle_until_) {
      settle_until_.reset();
      if (landed_ && contents(current_) != graded_contents_) {
        prompt_ = Prompt::None;
        start_grade(current_);
      }
    }
  }

  // Leaving: stop what runs (its builds and tests with their process groups), then the screen.
  jobs_.cancel();
  const int sig = ending_signal;
  if (sig != SIGHUP) write_all(STDOUT_FILENO, "\x1b[H\x1b[2J" + farewell_summary());
  terminal_.reset();
  if (sig != 0) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  return 0;
}

}  // namespace

int run(const Manifest& manifest, const Paths& paths, const Options& options) {
  Loop loop(manifest, paths, options);
  return loop.run();
}

}  // namespace tutor::watch
