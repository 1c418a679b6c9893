// The sandbox every test process runs in, where the host allows one: Debian's bubblewrap
// (bwrap) starts the test in namespaces of its own. In its own PID namespace the test sees only
// its own processes, so kill(-1, ...), kill(getppid(), ...) or a SIGSTOP cannot reach the grader
// or anything else on the machine, and every process it leaves behind (a setsid() daemon
// included) dies with it. It runs as the user `nobody`, without network, sees the file system
// read-only except /dev/shm (its own) and the folders the grader hands it (where its report and
// its $TMPDIR go), so it cannot rewrite results, state, tests or the learner's files.
//
// What bwrap cannot give (no user namespaces, bwrap missing) is found out once, by starting
// `true` in it, and said once; grading then runs with the process group, cgroup and rlimit
// limits only. TUTOR_SANDBOX=off turns the sandbox off (to debug a test by hand).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tutor {

struct SandboxSupport {
  bool available = false;
  std::string missing;  // when not available: what protection is missing, and why
};

// Probed on the first call (about 20 ms), then remembered.
const SandboxSupport& sandbox_support();

// The command line that runs `argv` in the sandbox, with `writable` folders (they must exist)
// visible read-write at the same path.
std::vector<std::string> sandboxed(const std::vector<std::string>& argv,
                                   const std::vector<std::filesystem::path>& writable);

// The processes bwrap itself adds to the test's task count (its monitor and the namespace's
// init): the task cap is raised by this much so that the kata keeps the cap it was given.
inline constexpr int kSandboxOwnTasks = 3;

}  // namespace tutor
