#include "job_runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tutor::watch {

JobRunner::JobRunner() {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
}

JobRunner::~JobRunner() {
  cancel();
  for (int fd : wake_)
    if (fd >= 0) close(fd);
}

void JobRunner::start(Work work) {
  cancel();
  int generation;
  {
    std::lock_guard lock(mutex_);
    generation = ++generation_;
    returned_ = false;
  }
  cancelled_ = false;
  busy_ = true;
  thread_ = std::thread([this, generation, work = std::move(work)] {
    auto post = [this, generation](Event event) {
      {
        std::lock_guard lock(mutex_);
        events_.emplace_back(generation, std::move(event));
      }
      const char byte = 1;
      (void)!write(wake_[1], &byte, 1);  // a full pipe already wakes the loop
    };
    try {
      work(post, cancelled_);
    } catch (const std::exception& e) {
      Event failed;
      failed.kind = Event::Kind::Error;
      failed.text = e.what();
      post(std::move(failed));
    }
    Event finished;
    finished.kind = Event::Kind::Finished;
    post(std::move(finished));
    std::lock_guard lock(mutex_);
    returned_ = true;
    finished_.notify_all();
  });
}

void JobRunner::cancel() {
  if (!thread_.joinable()) return;
  cancelled_ = true;
  // Each kill ends the command the job waits for; the job may start another before it sees the
  // flag (the grader runs a kata's tests side by side), so kill until it has returned.
  std::unique_lock lock(mutex_);
  while (!returned_) {
    lock.unlock();
    kill_child_process_groups();
    lock.lock();
    finished_.wait_for(lock, std::chrono::milliseconds(10), [&] { return returned_; });
  }
  ++generation_;  // what it posted is for a job nobody waits for any more
  events_.clear();
  lock.unlock();
  thread_.join();
  busy_ = false;
}

std::vector<Event> JobRunner::take() {
  char drain[256];
  while (read(wake_[0], drain, sizeof drain) > 0) {
  }
  std::vector<Event> taken;
  std::lock_guard lock(mutex_);
  for (auto& [generation, event] : events_) {
    if (generation != generation_) continue;
    if (event.kind == Event::Kind::Finished) busy_ = false;
    taken.push_back(std::move(event));
  }
  events_.clear();
  return taken;
}

int kill_child_process_groups() {
  const pid_t self = getpid();
  int found = 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat_line;
    if (!std::getline(stat_file, stat_line)) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const auto close_paren = stat_line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream fields(stat_line.substr(close_paren + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp) || ppid != self || state == 'Z') continue;
    ++found;
    if (pgrp == pid)
      killpg(static_cast<pid_t>(pid), SIGKILL);
    else
      kill(static_cast<pid_t>(pid), SIGKILL);
  }
  closedir(proc);
  return found;
}

}  // namespace tutor::watch
