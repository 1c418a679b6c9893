// Linked into every kata test (not the ThreadSanitizer builds, whose runtime wraps these calls
// itself): the program's own kill(), fork(), wait(), waitpid(), wait4() and waitid(), which take
// the place of the C library's for the test program. What they add is described in
// testkit/interposed.hpp; the C library's own version still does the work (dlsym(RTLD_NEXT, ...)
// finds it), or for kill() the system call itself.
//
// Why kill() refuses: kill(-1, sig) signals every process the caller may signal (run as root:
// the grader, the shell, the editor) and kill(0, sig) the caller's whole process group. Both are
// one slip away in a process kata (a pid field left at its default of -1 or 0). A signal to a
// child that was already reaped is a slip too: the kernel may have given its pid to an unrelated
// process. Refused, the test says what happened and fails normally instead of taking the
// learner's session, or a stranger's process, down with it.
#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>

#include "testkit/interposed.hpp"
#include "testkit/markers.hpp"
#include "testkit/proc_stat.hpp"

namespace {

// The C library's version of `name`, found once.
template <typename Function>
Function* next_definition(const char* name) {
  return reinterpret_cast<Function*>(dlsym(RTLD_NEXT, name));
}

// ---- children this program forked: (forking process, child) pairs, the latest kRemembered ----
constexpr unsigned kRemembered = 4096;
std::atomic<std::uint64_t> g_forked[kRemembered];
std::atomic<unsigned> g_forked_count{0};

std::uint64_t pair_of(pid_t parent, pid_t child) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(parent)) << 32) |
         static_cast<std::uint32_t>(child);
}

void remember_fork(pid_t parent, pid_t child) {
  g_forked[g_forked_count.fetch_add(1) % kRemembered].store(pair_of(parent, child));
}

bool forked_here(pid_t child) {
  const std::uint64_t wanted = pair_of(getpid(), child);
  for (const auto& entry : g_forked) {
    if (entry.load() == wanted) return true;
  }
  return false;
}

// True while `pid` is a child of this process, running or a zombie.
bool is_child_now(pid_t pid) {
  const testkit::ProcStat stat = testkit::read_proc_stat(pid);
  return stat.state != 0 && stat.parent == getpid();
}

// ---- refusals: counted, the latest kTexts remembered ----
constexpr int kTexts = 16;
char g_refusal_text[kTexts][512];
std::atomic<int> g_refusals{0};

void refuse(const char* call, const char* why) {
  const int index = g_refusals.load();
  std::snprintf(g_refusal_text[index % kTexts], sizeof g_refusal_text[0], "%s: %s", call, why);
  g_refusals.store(index + 1);
  std::fprintf(stderr, "\n%s%s\n", testkit::markers::kRefused, g_refusal_text[index % kTexts]);
  std::fflush(stderr);
}

// ---- fork failures and core dumps on request ----
std::atomic<int> g_forks_left{-1};  // < 0: fork() never fails
std::atomic<bool> g_core_dumps{false};

// The signals whose default action writes a core file (signal(7)).
bool dumps_core(int sig) {
  switch (sig) {
    case SIGQUIT:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGBUS:
    case SIGFPE:
    case SIGSEGV:
    case SIGXCPU:
    case SIGXFSZ:
    case SIGSYS:
      return true;
    default:
      return false;
  }
}

void add_core_dump_bit(int* status) {
  constexpr int kCoreDumpBit = 0x80;  // what WCOREDUMP(status) tests
  if (status != nullptr && g_core_dumps.load() && WIFSIGNALED(*status) &&
      dumps_core(WTERMSIG(*status))) {
    *status |= kCoreDumpBit;
  }
}

// What a test sees of all this (testkit/interposed.hpp), hooked up before main.
int refused_call_count() { return g_refusals.load(); }

std::string refused_call(int index) {
  const int count = g_refusals.load();
  if (index < 0 || index >= count || count - index > kTexts) return "";
  return g_refusal_text[index % kTexts];
}

void fail_forks_after(int successes) { g_forks_left.store(successes < 0 ? -1 : successes); }
void report_core_dumps(bool on) { g_core_dumps.store(on); }

[[maybe_unused]] const bool g_hooked_up = [] {
  testkit::detail::interposed = {refused_call_count, refused_call, fail_forks_after,
                                 report_core_dumps};
  return true;
}();

}  // namespace

extern "C" int kill(pid_t pid, int sig) noexcept {
  char call[64];
  std::snprintf(call, sizeof call, "kill(%d, %d)", static_cast<int>(pid), sig);
  if (pid == -1 || (pid == 0 && sig != 0)) {
    refuse(call, pid == -1
                     ? "pid -1 means every process you are allowed to signal, far beyond this "
                       "test. Was a pid still at its default value, or a fork() that failed?"
                     : "pid 0 means your whole process group, the test included. Was a pid "
                       "still at its default value?");
    errno = EPERM;
    return -1;
  }
  if (pid > 0 && sig != 0 && forked_here(pid) && !is_child_now(pid)) {
    refuse(call,
           "that child of this test had already been reaped, and the kernel may have given its "
           "pid to an unrelated process by now. Does your code still signal children after "
           "waitpid() has reaped them?");
    errno = ESRCH;  // what kill() says when the process is gone
    return -1;
  }
  return static_cast<int>(syscall(SYS_kill, pid, sig));
}

extern "C" pid_t fork() noexcept {
  static auto* const real = next_definition<pid_t()>("fork");
  for (int left = g_forks_left.load(); left >= 0;) {
    if (left == 0) {
      errno = EAGAIN;
      return -1;
    }
    if (g_forks_left.compare_exchange_weak(left, left - 1)) break;
  }
  const pid_t parent = getpid();
  const pid_t pid = real();
  if (pid > 0) remember_fork(parent, pid);
  return pid;
}

extern "C" pid_t wait(int* status) {
  static auto* const real = next_definition<pid_t(int*)>("wait");
  const pid_t pid = real(status);
  if (pid > 0) add_core_dump_bit(status);
  return pid;
}

extern "C" pid_t waitpid(pid_t which, int* status, int options) {
  static auto* const real = next_definition<pid_t(pid_t, int*, int)>("waitpid");
  const pid_t pid = real(which, status, options);
  if (pid > 0) add_core_dump_bit(status);
  return pid;
}

extern "C" pid_t wait4(pid_t which, int* status, int options, rusage* usage) noexcept {
  static auto* const real = next_definition<pid_t(pid_t, int*, int, rusage*)>("wait4");
  const pid_t pid = real(which, status, options, usage);
  if (pid > 0) add_core_dump_bit(status);
  return pid;
}

extern "C" int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  static auto* const real = next_definition<int(idtype_t, id_t, siginfo_t*, int)>("waitid");
  const int result = real(type, id, info, options);
  if (result == 0 && info != nullptr && info->si_pid != 0 && info->si_code == CLD_KILLED &&
      g_core_dumps.load() && dumps_core(info->si_status)) {
    info->si_code = CLD_DUMPED;
  }
  return result;
}
