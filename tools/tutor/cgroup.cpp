#include "cgroup.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "files.hpp"

namespace tutor {

namespace fs = std::filesystem;

namespace {

bool write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// "key value" lines (pids.events, memory.events, memory.oom_control): the value of `key`.
long long counter(const fs::path& file, const std::string& key) {
  std::istringstream lines(read_file(file));
  std::string k;
  long long value = 0;
  while (lines >> k >> value)
    if (k == key) return value;
  return 0;
}

const fs::path kRoot = "/sys/fs/cgroup";

bool unified_hierarchy() { return fs::exists(kRoot / "cgroup.controllers"); }

}  // namespace

fs::path Cgroup::make_group(const char* controller, const std::string& name) {
  std::error_code ec;
  if (unified_hierarchy()) {
    // cgroup v2: one folder for every controller; the parent must hand the controller down.
    if (read_file(kRoot / "cgroup.controllers").find(controller) == std::string::npos) return {};
    if (read_file(kRoot / "cgroup.subtree_control").find(controller) == std::string::npos &&
        !write_text(kRoot / "cgroup.subtree_control", fmt::format("+{}", controller)))
      return {};
    const fs::path dir = kRoot / name;
    if (!fs::exists(dir)) {
      if (mkdir(dir.c_str(), 0755) != 0) return {};
      dirs_.push_back(dir);
      procs_files_.push_back((dir / "cgroup.procs").string());
    }
    return dir;
  }
  const fs::path base = kRoot / controller;  // cgroup v1: a hierarchy per controller
  if (!fs::exists(base / "cgroup.procs", ec)) return {};
  const fs::path dir = base / name;
  if (mkdir(dir.c_str(), 0755) != 0) return {};
  dirs_.push_back(dir);
  procs_files_.push_back((dir / "cgroup.procs").string());
  return dir;
}

Cgroup::Cgroup(int max_tasks, long long max_memory_bytes) {
  static std::atomic<int> counter{0};
  const std::string name = fmt::format("concurrency-katas-{}-{}", getpid(), counter++);
  if (max_tasks > 0) {
    fs::path dir = make_group("pids", name);
    if (!dir.empty() && write_text(dir / "pids.max", std::to_string(max_tasks))) pids_dir_ = dir;
  }
  if (max_memory_bytes > 0) {
    fs::path dir = make_group("memory", name);
    const std::string bytes = std::to_string(max_memory_bytes);
    if (!dir.empty()) {
      if (unified_hierarchy()) {
        if (write_text(dir / "memory.max", bytes)) memory_dir_ = dir;
        write_text(dir / "memory.swap.max", "0");  // no swap: the cap is real memory
      } else if (write_text(dir / "memory.limit_in_bytes", bytes)) {
        memory_dir_ = dir;
        if (fs::exists(dir / "memory.memsw.limit_in_bytes"))
          write_text(dir / "memory.memsw.limit_in_bytes", bytes);
      }
    }
  }
}

Cgroup::~Cgroup() {
  kill_all();
  for (const auto& dir : dirs_)
    for (int i = 0; i < 200 && rmdir(dir.c_str()) != 0; ++i) usleep(10000);
}

void Cgroup::enter_from_child() const {
  char buf[24];
  int n = 0;
  char digits[16];
  int d = 0;
  pid_t pid = getpid();
  do {
    digits[d++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  while (d > 0) buf[n++] = digits[--d];
  for (const auto& file : procs_files_) {
    int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    (void)!write(fd, buf, static_cast<size_t>(n));
    close(fd);
  }
}

int Cgroup::kill_all() const {
  int killed = 0;
  for (const auto& dir : dirs_) {
    for (int round = 0; round < 100; ++round) {
      std::ifstream procs(dir / "cgroup.procs");
      pid_t pid;
      int seen = 0;
      while (procs >> pid) {
        ++seen;
        kill(pid, SIGKILL);
      }
      if (seen == 0) break;
      if (round == 0) killed = std::max(killed, seen);
      usleep(5000);
    }
  }
  return killed;
}

bool Cgroup::task_limit_hit() const {
  return !pids_dir_.empty() && counter(pids_dir_ / "pids.events", "max") > 0;
}

bool Cgroup::memory_limit_hit() const {
  if (memory_dir_.empty()) return false;
  if (unified_hierarchy()) return counter(memory_dir_ / "memory.events", "oom_kill") > 0;
  // v1: the kernel's OOM killer ran in the group (oom_kill, Linux 4.13+), or failing that the
  // group came to its cap with nothing left to reclaim.
  const fs::path oom = memory_dir_ / "memory.oom_control";
  if (read_file(oom).find("oom_kill ") != std::string::npos) return counter(oom, "oom_kill") > 0;
  return std::atoll(read_file(memory_dir_ / "memory.failcnt").c_str()) > 0;
}

}  // namespace tutor
