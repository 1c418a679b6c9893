// Runs the watch loop's slow work (a build, a kata's tests, the lesson's demos) on a thread of
// its own, one job at a time, so that keys and saves are answered while it runs.
//
// A job reports through post(): events are queued and the loop is woken through a pipe it
// polls. cancel() stops a job at once: it kills the process group of every command the tutor
// has running (each build and test runs in a group of its own, see subprocess.hpp), again and
// again until the job has returned, so nothing the job started outlives it. Events of a
// cancelled job are dropped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../results.hpp"

namespace tutor::watch {

struct Event {
  enum class Kind {
    Progress,     // build steps: done of total
    KataStarted,  // grading kata `kata` begins (its build first): contents
    Note,         // text, e.g. "built in 1.1 s"
    Test,         // one test's verdict: test, under_tsan
    KataDone,     // kata `kata` is graded: result
    Output,       // more output of a command (demos, a build): text
    Error,        // the job failed: text
    Finished,     // the job has returned (always its last event)
  };
  Kind kind = Kind::Note;
  int kata = -1;
  int done = 0;
  int total = 0;
  std::string text;
  TestResult test;
  bool under_tsan = false;
  KataResult result;
  std::vector<std::string> contents;  // KataStarted: the kata's files as grading began
};

class JobRunner {
 public:
  using Post = std::function<void(Event)>;
  // The work gets post() and a flag that turns true when it is cancelled (to stop between
  // steps; the commands it runs are killed anyway).
  using Work = std::function<void(const Post& post, const std::atomic<bool>& cancelled)>;

  JobRunner();
  ~JobRunner();  // cancels the running job
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Cancels the running job, if any, then starts `work` on a new thread.
  void start(Work work);
  void cancel();
  // True from start() until the job's Finished event has been taken.
  bool busy() const { return busy_; }

  int wake_fd() const { return wake_[0]; }
  // The events of the current job since the last call.
  std::vector<Event> take();

 private:
  std::thread thread_;
  std::atomic<bool> cancelled_{false};
  bool busy_ = false;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool returned_ = true;
  std::deque<std::pair<int, Event>> events_;
  int generation_ = 0;
  int wake_[2] = {-1, -1};
};

// Kills, with SIGKILL, the process group of every child of this process that leads one (the
// builds and tests run_command started), and any other child. Returns how many it found.
int kill_child_process_groups();

}  // namespace tutor::watch
