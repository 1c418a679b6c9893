#include "sandbox.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace tutor {

namespace {

const char* bwrap_path() {
  for (const char* candidate : {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"})
    if (access(candidate, X_OK) == 0) return candidate;
  return nullptr;
}

// Starts `argv` with output discarded; true if it ran and exited with 0.
bool runs_cleanly(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    FILE* null = std::freopen("/dev/null", "w", stderr);
    (void)null;
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

std::vector<std::string> sandboxed(const std::vector<std::string>& argv,
                                   const std::vector<std::filesystem::path>& writable) {
  const char* bwrap = bwrap_path();
  std::vector<std::string> line = {
      bwrap ? bwrap : "bwrap",
      // Namespaces: its own processes, users (it runs as nobody), network (none), IPC, host name.
      "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--uid",
      "65534", "--gid", "65534",
      // If the grader dies, so does the sandbox; its own session keeps it off our terminal.
      "--die-with-parent", "--new-session",
      // Everything read-only, then a fresh /dev, /proc (its own processes only) and /dev/shm.
      // /tmp stays the host's, read-only: the course or its build may live there (a clone in
      // /tmp), and a tmpfs over it would hide them. The test's temporary folder is $TMPDIR, in
      // its writable run folder (run_test sets it).
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--perms", "01777", "--tmpfs",
      "/dev/shm"};
  for (const auto& dir : writable) {
    line.push_back("--bind");
    line.push_back(dir.string());
    line.push_back(dir.string());
  }
  line.push_back("--");
  line.insert(line.end(), argv.begin(), argv.end());
  return line;
}

const SandboxSupport& sandbox_support() {
  static SandboxSupport support;
  static std::once_flag probed;
  std::call_once(probed, [] {
    if (const char* off = std::getenv("TUTOR_SANDBOX"); off && std::string(off) == "off") {
      support.missing = "TUTOR_SANDBOX=off";
    } else if (bwrap_path() == nullptr) {
      support.missing =
          "bubblewrap (bwrap) is not installed (Debian package bubblewrap; make deps installs it)";
    } else if (!runs_cleanly(sandboxed({"/bin/true"}, {}))) {
      support.missing =
          "bwrap is installed but cannot make namespaces here (no user namespaces? inside a "
          "container without them?)";
    } else {
      support.available = true;
    }
  });
  return support;
}

}  // namespace tutor
