// memory_cost: what does an idle thread cost in memory, next to an idle child process?
//
// For N = 1, 10, 100 the demo starts N idle threads, and separately N idle forked children, in a
// program that holds a 64 MiB buffer it has written (so every page of it really exists). It
// reads what the kernel reports for each process (/proc/<pid>/status and smaps_rollup):
//   - virtual size: address space reserved, whether or not anything is in it,
//   - RSS (resident set size): pages in RAM that the process maps, shared ones counted in full,
//     which is what `ps` and `top` show,
//   - PSS (proportional set size): the same pages, each shared one divided by the number of
//     processes that map it; summed over processes, PSS counts every page once,
//   - page tables (VmPTE): the kernel's map from virtual to physical pages, one per process,
// then lets every thread and every child write one byte into each page of the buffer and
// reads them again. A thread writes the one buffer all threads share; a child writes its
// copy-on-write copy, and the kernel has to copy every page it writes.
//
// Each measurement (threads or children, one N) runs in a child of its own, the "lab", so that
// the previous one leaves nothing behind (glibc keeps the stacks of finished threads for reuse,
// and freed memory is not always returned). Lesson 02 (README.md#what-a-process-costs-in-memory)
// quotes these figures.
//
//   memory_cost           N = 1, 10, 100 with a 64 MiB buffer (seconds to a minute: the children
//                         copy 7 GiB in all; the last row needs 6.4 GiB free for its writes and
//                         says so if it skips them)
//   memory_cost --quick   N = 1 and 4 with an 8 MiB buffer (for make check; well under 2 s)
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kPage = 4096;
constexpr double kKiBPerMiB = 1024;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// ---- reading what the kernel says -------------------------------------------------------------

// The value of the line "<name>:   1234 kB" in a /proc file, in KiB (-1 if there is none).
double kib_field(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.compare(0, name.size() + 1, name + ":") == 0)
      return std::strtod(line.c_str() + name.size() + 1, nullptr);
  }
  return -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What one process (or the sum over several) occupies, in KiB.
struct Usage {
  double virtual_size = 0;  // VmSize
  double rss = 0;           // Rss: every page it maps that is in RAM
  double pss = 0;           // Pss: the same, shared pages divided among their sharers
  double shared = 0;        // Shared_Clean + Shared_Dirty: pages another process maps too
  double unique = 0;        // Private_Clean + Private_Dirty: pages only this process maps
  double page_tables = 0;   // VmPTE

  Usage& operator+=(const Usage& other) {
    virtual_size += other.virtual_size;
    rss += other.rss;
    pss += other.pss;
    shared += other.shared;
    unique += other.unique;
    page_tables += other.page_tables;
    return *this;
  }
  Usage operator-(const Usage& other) const {
    Usage d = *this;
    d.virtual_size -= other.virtual_size;
    d.rss -= other.rss;
    d.pss -= other.pss;
    d.shared -= other.shared;
    d.unique -= other.unique;
    d.page_tables -= other.page_tables;
    return d;
  }
  Usage operator/(double n) const {
    return {virtual_size / n, rss / n, pss / n, shared / n, unique / n, page_tables / n};
  }
};

Usage usage_of(const std::string& pid) {
  const std::string status = read_text("/proc/" + pid + "/status");
  const std::string rollup = read_text("/proc/" + pid + "/smaps_rollup");
  Usage u;
  u.virtual_size = kib_field(status, "VmSize");
  u.page_tables = kib_field(status, "VmPTE");
  u.rss = kib_field(rollup, "Rss");
  u.pss = kib_field(rollup, "Pss");
  u.shared = kib_field(rollup, "Shared_Clean") + kib_field(rollup, "Shared_Dirty");
  u.unique = kib_field(rollup, "Private_Clean") + kib_field(rollup, "Private_Dirty");
  return u;
}

double meminfo_kib(const char* name) { return kib_field(read_text("/proc/meminfo"), name); }

// KiB this program may still fill before the machine (or its memory cgroup) runs out.
double memory_we_may_use() {
  double available = meminfo_kib("MemAvailable");
  // cgroup v2 (containers, systemd units): a limit lower than the machine's memory.
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroup, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    std::ifstream max_file(dir + "/memory.max");
    std::ifstream current_file(dir + "/memory.current");
    std::string max;
    double current = 0;
    if (max_file >> max && max != "max" && current_file >> current) {
      available = std::min(available, (std::strtod(max.c_str(), nullptr) - current) / 1024);
    }
  }
  return available;
}

// Measuring runs code too: run it once before the first measurement counts, so that the pages
// of its code are already mapped (the kernel maps 64 KiB of a file around each page fault).
void warm_up_measuring() {
  for (int i = 0; i < 2; ++i) {
    usage_of("self");
    meminfo_kib("KernelStack");
  }
}

// ---- the buffer -------------------------------------------------------------------------------

struct Buffer {
  char* data = nullptr;
  std::size_t size = 0;

  explicit Buffer(std::size_t bytes) : size(bytes) {
    void* mapped = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) fail("mmap");
    data = static_cast<char*>(mapped);
    // 4 KiB pages everywhere, so that machines with transparent huge pages set to "always"
    // measure the same thing (a huge page would be split at the first copy-on-write anyway).
    madvise(data, size, MADV_NOHUGEPAGE);
    std::memset(data, 1, size);  // every page now exists and belongs to this process
  }
  ~Buffer() { munmap(data, size); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // One byte into every page, at `offset` within the page (threads use different offsets, so
  // that they never write the same byte: no data race).
  void touch_every_page(std::size_t offset) {
    for (std::size_t at = offset % kPage; at < size; at += kPage) data[at] = 2;
  }
};

// ---- what a lab reports -----------------------------------------------------------------------

struct ChildSharing {
  Usage idle;
  Usage written;
};

// Filled in by a lab, in memory shared with the program that started it.
struct LabResult {
  bool ok = false;
  char error[200] = {};
  Usage before;           // the lab alone, buffer written
  Usage idle;             // lab + its threads or children, all idle (summed over processes)
  Usage written;          // the same after every thread or child wrote every page of the buffer
  bool wrote = false;     // false: skipped, not enough free memory
  double needed_kib = 0;  // what the children's writes would have needed
  ChildSharing child;     // one child on its own (the average over the children)
  double kernel_stack_before = 0;  // machine-wide KernelStack in /proc/meminfo, KiB
  double kernel_stack_idle = 0;
  double stack_size_kib = 0;  // a thread's stack mapping and how much of it is in RAM
  double stack_rss_kib = 0;
  double guard_kib = 0;
};

// ---- N idle threads ---------------------------------------------------------------------------

// Threads that wait, then write the buffer when told, then wait again until told to end. The
// destructor always tells them to end and joins them, also when a measurement threw. They are
// POSIX threads (what std::thread uses underneath), so that we can ask where their stacks are.
class IdleThreads {
 public:
  IdleThreads(int n, Buffer& buffer)
      : buffer_(buffer), started_(n), wrote_(n), threads_(n), slots_(n) {
    for (int i = 0; i < n; ++i) {
      slots_[i].self = this;
      slots_[i].index = i;
      errno = pthread_create(&threads_[i], nullptr, &IdleThreads::run, &slots_[i]);
      if (errno != 0) {
        const int error = errno;
        threads_.resize(i);
        end_and_join();  // a constructor that throws runs no destructor
        errno = error;
        fail("pthread_create");
      }
    }
    started_.wait();
  }
  ~IdleThreads() { end_and_join(); }
  IdleThreads(const IdleThreads&) = delete;
  IdleThreads& operator=(const IdleThreads&) = delete;

  void write_buffer() {
    set_phase(kWrite);
    wrote_.wait();
  }

  struct Stack {
    double reserved_kib = 0;  // the usable stack, without the guard page
    double guard_kib = 0;     // below it, mapped without access: an overflow crashes there
    double resident_kib = 0;  // the part of it in RAM
  };
  // Asked by the lab's main thread: the idle threads themselves never call malloc, because a
  // thread that does gets a malloc arena of its own (64 MiB of address space with glibc).
  Stack stack_of(int index) const {
    Stack s;
    pthread_attr_t attr;
    if (pthread_getattr_np(threads_[index], &attr) != 0) return s;
    void* low = nullptr;
    std::size_t size = 0;
    std::size_t guard = 0;
    pthread_attr_getstack(&attr, &low, &size);
    pthread_attr_getguardsize(&attr, &guard);
    pthread_attr_destroy(&attr);
    // mincore() says, page by page, which pages of a range are in RAM.
    std::vector<unsigned char> in_ram((size + kPage - 1) / kPage);
    if (mincore(low, size, in_ram.data()) == 0) {
      for (unsigned char page : in_ram) s.resident_kib += (page & 1) * (kPage / 1024.0);
    }
    s.reserved_kib = static_cast<double>(size) / 1024;
    s.guard_kib = static_cast<double>(guard) / 1024;
    return s;
  }

 private:
  enum Phase : int { kWait, kWrite, kEnd };
  struct Slot {
    IdleThreads* self = nullptr;
    int index = 0;
  };

  void set_phase(Phase p) {
    phase_.store(p);
    phase_.notify_all();
  }
  void end_and_join() {
    set_phase(kEnd);
    for (pthread_t t : threads_) pthread_join(t, nullptr);
  }
  static void* run(void* arg) {
    auto* slot = static_cast<Slot*>(arg);
    slot->self->started_.count_down();
    slot->self->phase_.wait(kWait);  // sleeps in the kernel (a futex) until the phase changes
    if (slot->self->phase_.load() == kWrite) {
      slot->self->buffer_.touch_every_page(static_cast<std::size_t>(slot->index));
      slot->self->wrote_.count_down();
      slot->self->phase_.wait(kWrite);
    }
    return nullptr;
  }
  Buffer& buffer_;
  std::latch started_;
  std::latch wrote_;
  std::atomic<int> phase_{kWait};
  std::vector<pthread_t> threads_;
  std::vector<Slot> slots_;
};

void threads_lab(int n, std::size_t buffer_bytes, LabResult& r) {
  Buffer buffer(buffer_bytes);
  // Warm-up: one thread runs the whole sequence first, so that the code it runs is in memory
  // before we measure (a one-time cost, not a per-thread one). It stays alive until the end:
  // glibc keeps the stack of an ended thread for reuse, and the first measured thread would
  // get it for free.
  IdleThreads warm_up(1, buffer);
  warm_up.write_buffer();
  warm_up_measuring();
  r.before = usage_of("self");
  r.kernel_stack_before = meminfo_kib("KernelStack");
  IdleThreads threads(n, buffer);
  r.idle = usage_of("self");
  r.kernel_stack_idle = meminfo_kib("KernelStack");
  for (int i = 0; i < n; ++i) {
    const IdleThreads::Stack s = threads.stack_of(i);
    r.stack_size_kib += s.reserved_kib / n;
    r.stack_rss_kib += s.resident_kib / n;
    r.guard_kib = s.guard_kib;
  }
  threads.write_buffer();
  r.written = usage_of("self");
  r.wrote = true;
}

// ---- N idle children --------------------------------------------------------------------------

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int ends[2];
    if (pipe(ends) != 0) fail("pipe");
    read_end = ends[0];
    write_end = ends[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read_end >= 0) close(read_end);
    read_end = -1;
  }
  void close_write() {
    if (write_end >= 0) close(write_end);
    write_end = -1;
  }
};

// Reads exactly `n` bytes, one per child; throws if they do not come (a child died or hangs).
void read_bytes(int fd, int n, const char* what) {
  char bytes[256];
  while (n > 0) {
    pollfd ready{fd, POLLIN, 0};
    const int polled = poll(&ready, 1, 60'000);  // a generous bound: 100 children on 2 cores
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) throw std::runtime_error(fmt::format("{} children never said {}", n, what));
    const ssize_t got = read(fd, bytes, std::min<std::size_t>(sizeof bytes, n));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw std::runtime_error(
          fmt::format("{} of the children ended before they said {}", n, what));
    n -= static_cast<int>(got);
  }
}

void write_bytes(int fd, int n) {
  const std::vector<char> bytes(n, 'x');
  if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) fail("write");
}

// The children and the pipes that steer them. Each child says "ready", waits for one byte on
// `go_write`, writes the buffer, says "done", and waits until `stop` reaches end of file.
// The destructor closes `stop` and reaps every child; a child that does not end within a
// second is killed. Children also die with the lab (PR_SET_PDEATHSIG) if it crashes.
class IdleChildren {
 public:
  IdleChildren(int n, Buffer& buffer) {
    try {
      start(n, buffer);
    } catch (...) {
      end_and_reap();  // a constructor that throws runs no destructor
      throw;
    }
  }
  ~IdleChildren() { end_and_reap(); }
  IdleChildren(const IdleChildren&) = delete;
  IdleChildren& operator=(const IdleChildren&) = delete;

  void write_buffer() {
    write_bytes(go_write_.write_end, static_cast<int>(pids_.size()));
    read_bytes(done_.read_end, static_cast<int>(pids_.size()), "done writing");
  }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  void start(int n, Buffer& buffer) {
    const pid_t lab = getpid();
    pids_.reserve(n);
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid < 0) fail("fork");
      if (pid == 0) child(lab, buffer);
      pids_.push_back(pid);
    }
    ready_.close_write();  // only the children write these two now
    done_.close_write();
    go_write_.close_read();
    stop_.close_read();
    read_bytes(ready_.read_end, n, "ready");
  }
  void end_and_reap() {
    stop_.close_write();  // end of file: every child leaves
    for (pid_t pid : pids_) {
      int status = 0;
      for (int tries = 0; waitpid(pid, &status, WNOHANG) == 0; ++tries) {
        if (tries == 1000) kill(pid, SIGKILL);  // pid > 0 and not reaped yet: it is ours
        usleep(1000);
      }
    }
    pids_.clear();
  }
  [[noreturn]] void child(pid_t lab, Buffer& buffer) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // if the lab dies, so does this child
    if (getppid() != lab) _exit(1);    // it died before prctl took effect
    ready_.close_read();
    done_.close_read();
    go_write_.close_write();
    stop_.close_write();
    char byte = 'r';
    if (write(ready_.write_end, &byte, 1) != 1) _exit(1);
    if (read(go_write_.read_end, &byte, 1) == 1) {
      buffer.touch_every_page(0);  // copy-on-write: the kernel copies each page for this child
      if (write(done_.write_end, &byte, 1) != 1) _exit(1);
    }
    while (read(stop_.read_end, &byte, 1) > 0) {
    }
    _exit(0);  // not exit(): see README.md#leave-with-_exit
  }

  Pipe ready_, go_write_, done_, stop_;
  std::vector<pid_t> pids_;
};

Usage sum_over(const std::vector<pid_t>& pids, Usage* average_child) {
  Usage total = usage_of("self");
  Usage children;
  for (pid_t pid : pids) children += usage_of(std::to_string(pid));
  *average_child = children / static_cast<double>(pids.size());
  total += children;
  return total;
}

void children_lab(int n, std::size_t buffer_bytes, LabResult& r) {
  Buffer buffer(buffer_bytes);
  {
    IdleChildren warm_up(1, buffer);  // as for threads: code in memory before we measure
    warm_up.write_buffer();
    warm_up_measuring();
  }
  r.before = usage_of("self");
  r.kernel_stack_before = meminfo_kib("KernelStack");
  IdleChildren children(n, buffer);
  r.idle = sum_over(children.pids(), &r.child.idle);
  r.kernel_stack_idle = meminfo_kib("KernelStack");

  // Every child will own a full copy of the buffer: only if the machine has room for it.
  r.needed_kib = static_cast<double>(n) * static_cast<double>(buffer_bytes) / 1024;
  if (r.needed_kib + 1024 * kKiBPerMiB > memory_we_may_use()) return;
  children.write_buffer();
  r.written = sum_over(children.pids(), &r.child.written);
  r.wrote = true;
}

// ---- running a lab in a fresh child -----------------------------------------------------------

enum class Kind { kThreads, kChildren };

LabResult run_lab(Kind kind, int n, std::size_t buffer_bytes) {
  // The result comes back through memory shared with the lab (one page, the same in all
  // measurements).
  void* shared =
      mmap(nullptr, sizeof(LabResult), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) fail("mmap");
  auto* result = new (shared) LabResult{};
  std::fflush(stdout);  // nothing unwritten for the lab to inherit
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    try {
      if (kind == Kind::kThreads) {
        threads_lab(n, buffer_bytes, *result);
      } else {
        children_lab(n, buffer_bytes, *result);
      }
      result->ok = true;
    } catch (const std::exception& e) {
      std::snprintf(result->error, sizeof result->error, "%s", e.what());
    }
    _exit(result->ok ? 0 : 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  LabResult copy = *result;
  munmap(shared, sizeof(LabResult));
  if (!copy.ok && copy.error[0] == '\0') {
    std::snprintf(copy.error, sizeof copy.error, "the lab ended with status %d%s", status,
                  WIFSIGNALED(status) ? " (killed by a signal: out of memory?)" : "");
  }
  return copy;
}

// ---- printing ---------------------------------------------------------------------------------

// 12 KiB, 8.0 MiB, 6.31 GiB; keeps the sign of small negative differences (measuring noise).
std::string size_text(double kib) {
  const double magnitude = kib < 0 ? -kib : kib;
  if (magnitude < 1000) return fmt::format("{:.0f} KiB", kib);
  if (magnitude < 1000 * kKiBPerMiB) return fmt::format("{:.1f} MiB", kib / kKiBPerMiB);
  return fmt::format("{:.2f} GiB", kib / kKiBPerMiB / kKiBPerMiB);
}

struct Row {
  int n;
  LabResult threads;
  LabResult children;
};

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const std::vector<int> counts = quick ? std::vector<int>{1, 4} : std::vector<int>{1, 10, 100};
  const std::size_t buffer_mib = quick ? 8 : 64;
  const std::size_t buffer_bytes = buffer_mib * 1024 * 1024;

  fmt::print(
      "Measuring N = {} ({}) ...\n\n", fmt::join(counts, ", "),
      quick ? "--quick: small sizes" : "the children copy about 7 GiB in all: up to a minute");
  std::vector<Row> rows;
  try {
    for (int n : counts) {
      Row row{n, run_lab(Kind::kThreads, n, buffer_bytes),
              run_lab(Kind::kChildren, n, buffer_bytes)};
      for (const LabResult* lab : {&row.threads, &row.children}) {
        if (!lab->ok) throw std::runtime_error(lab->error);
      }
      rows.push_back(row);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "memory_cost: {}\n", e.what());
    return 1;
  }

  fmt::print(
      "N idle threads next to N idle child processes. The program first writes every page of\n"
      "a buffer of {} MiB; its threads share that buffer, its children inherit it\n"
      "copy-on-write. Then every thread and every child writes one byte into each of its "
      "pages.\n\n",
      buffer_mib);

  const auto row_text = [](auto n, auto kind, auto c1, auto c2, auto c3, auto c4, auto c5,
                           auto c6) {
    return fmt::format("{:>4}  {:<9}{:>10} {:>10} {:>10} {:>11}   {:>10} {:>10}\n", n, kind, c1, c2,
                       c3, c4, c5, c6);
  };
  fmt::print("Per thread or per child: what N of them add to the sum over all processes, / N\n\n");
  fmt::print("{:15}{:^44}   {:^21}\n", "", "idle", "after writing");
  fmt::print("{}", row_text("N", "each", "virtual", "RSS", "PSS", "page tables", "RSS", "PSS"));
  for (const Row& row : rows) {
    for (const LabResult* lab : {&row.threads, &row.children}) {
      const Usage idle = (lab->idle - lab->before) / row.n;
      const Usage written = (lab->written - lab->before) / row.n;
      fmt::print("{}", row_text(row.n, lab == &row.threads ? "thread" : "child",
                                size_text(idle.virtual_size), size_text(idle.rss),
                                size_text(idle.pss), size_text(idle.page_tables),
                                lab->wrote ? size_text(written.rss) : "skipped",
                                lab->wrote ? size_text(written.pss) : "skipped"));
    }
  }

  fmt::print("\nThe whole program: parent + N threads, or parent + N children, summed\n\n");
  fmt::print("{:15}{:^25}   {:^25}\n", "", "idle", "after writing");
  fmt::print("{:>4}  {:<9}{:>14} {:>10}   {:>14} {:>10}\n", "N", "with", "RSS (ps)", "PSS",
             "RSS (ps)", "PSS");
  for (const Row& row : rows) {
    for (const LabResult* lab : {&row.threads, &row.children}) {
      fmt::print("{:>4}  {:<9}{:>14} {:>10}   {:>14} {:>10}\n", row.n,
                 lab == &row.threads ? "threads" : "children", size_text(lab->idle.rss),
                 size_text(lab->idle.pss), lab->wrote ? size_text(lab->written.rss) : "skipped",
                 lab->wrote ? size_text(lab->written.pss) : "skipped");
    }
  }
  for (const Row& row : rows) {
    if (!row.children.wrote) {
      fmt::print("(N = {}: the children's writes were skipped: they need {}, more than is free)\n",
                 row.n, size_text(row.children.needed_kib));
    }
  }

  const Row& last = rows.back();
  const Row& first = rows.front();
  const ChildSharing& one = first.children.child;
  fmt::print(
      "\nA thread's stack: {} reserved (plus a {} guard page); an idle thread has {} of it\n"
      "in RAM: the pages it has used, and its thread-local storage at the top.\n",
      size_text(last.threads.stack_size_kib), size_text(last.threads.guard_kib),
      size_text(last.threads.stack_rss_kib));
  fmt::print(
      "One idle child (N = 1) has {} in RAM: {} shared with its parent (copy-on-write pages\n"
      "and library code), {} its own.\n",
      size_text(one.idle.rss), size_text(one.idle.shared), size_text(one.idle.unique));
  if (first.children.wrote) {
    fmt::print("After writing the buffer: {} shared, {} its own.\n", size_text(one.written.shared),
               size_text(one.written.unique));
  }
  const double thread_kernel_stack =
      (last.threads.kernel_stack_idle - last.threads.kernel_stack_before) / last.n;
  const double child_kernel_stack =
      (last.children.kernel_stack_idle - last.children.kernel_stack_before) / last.n;
  fmt::print(
      "The kernel's stack for each thread or process is in no one's RSS. KernelStack in\n"
      "/proc/meminfo (machine-wide, noisy) grew by {} per thread, {} per child (N = {}).\n",
      size_text(thread_kernel_stack), size_text(child_kernel_stack), last.n);

  const Usage thread = (last.threads.idle - last.threads.before) / last.n;
  const Usage child = (last.children.idle - last.children.before) / last.n;
  fmt::print(
      "\nAll told, for N = {} idle: a thread {} (PSS) + {} (page tables) + {} (kernel stack)\n"
      "= {}; a child {} + {} + {} = {}",
      last.n, size_text(thread.pss), size_text(thread.page_tables), size_text(thread_kernel_stack),
      size_text(thread.pss + thread.page_tables + thread_kernel_stack), size_text(child.pss),
      size_text(child.page_tables), size_text(child_kernel_stack),
      size_text(child.pss + child.page_tables + child_kernel_stack));
  if (last.children.wrote) {
    fmt::print(",\nplus {} once it has written the buffer",
               size_text(((last.children.written - last.children.idle) / last.n).pss));
  }
  fmt::print(".\n");

  fmt::print(
      "\nWhich number answers \"how much memory does this cost?\": PSS, summed over the\n"
      "processes. RSS counts every page a process maps, also one that a hundred processes\n"
      "share, so adding up the RSS column of ps counts that page a hundred times. PSS gives\n"
      "each sharer its fraction of the page, so the sum counts it once. An idle child shares\n"
      "nearly everything with its parent until it writes, then pays for every page it writes;\n"
      "its page tables, a copy of its parent's (8 bytes per 4 KiB page), are not in PSS. A\n"
      "thread costs the pages of its stack it has used; writing memory the threads share costs\n"
      "nothing more. Virtual size is address space set aside, not memory.\n");
  return 0;
}
