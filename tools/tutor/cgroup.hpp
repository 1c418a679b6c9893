// A control group for one command and everything it starts: it caps the tasks (processes and
// threads) and the memory they use together, and kills every task in it at the end, whatever
// process group or session a task moved to (a setsid() escapee included). cgroup v1 (a folder
// per controller) or v2 (one folder), whichever the host has. Where none can be made (not root,
// no cgroup file system), the caps it could not set are reported and the caller falls back on
// rlimits.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tutor {

class Cgroup {
 public:
  // 0: no cap of that kind (and no folder for it).
  Cgroup(int max_tasks, long long max_memory_bytes);
  ~Cgroup();  // kills what is left and removes the folders
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  bool caps_tasks() const { return !pids_dir_.empty(); }
  bool caps_memory() const { return !memory_dir_.empty(); }
  // Called in the child between fork and exec: only async-signal-safe calls.
  void enter_from_child() const;
  // Kills every task still in the group; returns how many there were at first.
  int kill_all() const;
  bool task_limit_hit() const;
  bool memory_limit_hit() const;

 private:
  std::filesystem::path make_group(const char* controller, const std::string& name);
  std::filesystem::path pids_dir_, memory_dir_;
  std::vector<std::string> procs_files_;  // ready before fork: the child may not allocate
  std::vector<std::filesystem::path> dirs_;
};

}  // namespace tutor
