// The watch loop of `make start`, driven as a learner drives it: the tutor runs on a
// pseudo-terminal (forkpty), the test types keys into it, saves files of the fixture course
// and reads the screen (the latest frame, escape codes removed).
//
// Each test that saves files works in a copy of the fixture course of its own in the build
// folder (tests/tutor/CMakeLists.txt registers them with the prefixes "watch.", "poll." and
// "hangup."), put back to the starters and committed to a fresh git repository first (x resets
// from git). In the copies a test may run 30 s, so 01b's hanging starter is still running when a
// test stops it. Every wait is for something to appear, with a deadline that only a broken loop
// reaches.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const fs::path kSource = TUTOR_SOURCE_DIR;
const fs::path kCourse = kSource / "tests/tutor/course";
const fs::path kCopies = TUTOR_WATCH_COURSES;
const fs::path kTutor = fs::path(TUTOR_BUILD_DIR) / "bin/tutor";
// A failure bound only: a kata build takes a second or two, but in `make check` it waits for
// the build folder's lock, which the check's own builds (every kata, the hostile course's
// compile bomb) hold for a while at a time; on two busy cores that wait has reached 20 s.
constexpr auto kDeadline = 150s;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_in_place(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

// As vim and many IDEs save: a new file, renamed over the old one (a new inode).
void write_by_rename(const fs::path& file, const std::string& text) {
  const fs::path temporary = file.string() + ".saving";
  write_in_place(temporary, text);
  fs::rename(temporary, file);
}

std::string without_escapes(const std::string& raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\x1b') {
      if (i + 1 < raw.size() && raw[i + 1] == '[') {
        i += 2;
        while (i < raw.size() && !(raw[i] >= 0x40 && raw[i] <= 0x7e)) ++i;
      }
      continue;
    }
    if (raw[i] != '\r') out += raw[i];
  }
  return out;
}

// A process of the tutor's session (the pty child leads it; the tutor's builds and tests have
// process groups of their own but stay in its session).
struct SessionProcess {
  pid_t pid;
  std::string command;
};

std::vector<SessionProcess> processes_of_session(pid_t session) {
  std::vector<SessionProcess> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = readdir(proc)) {
    const long pid = std::strtol(entry->d_name, nullptr, 10);
    if (pid <= 0) continue;
    const std::string stat = read(fs::path("/proc") / entry->d_name / "stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    char state = 0;
    long ppid = 0, group = 0, sid = 0;
    if (!(fields >> state >> ppid >> group >> sid) || sid != session || state == 'Z') continue;
    std::string command = read(fs::path("/proc") / entry->d_name / "cmdline");
    for (char& c : command)
      if (c == '\0') c = ' ';
    found.push_back({static_cast<pid_t>(pid), command});
  }
  closedir(proc);
  return found;
}

// The tutor on a pseudo-terminal of 50 rows and 140 columns.
class PtyTutor {
 public:
  PtyTutor(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {kTutor.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw_argv;
    for (auto& a : argv) raw_argv.push_back(a.data());
    raw_argv.push_back(nullptr);
    struct winsize size {};
    size.ws_row = 50;
    size.ws_col = 140;
    pid_ = forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      setenv("TERM", "xterm-256color", 1);
      unsetenv("NO_COLOR");
      for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
      execv(raw_argv[0], raw_argv.data());
      _exit(127);
    }
    if (pid_ > 0) reader_ = std::thread([this] { read_all(); });
  }

  ~PtyTutor() {
    // A test that failed half-way must not leave the tutor, or what it started, running.
    if (pid_ > 0 && !exited_) {
      for (const auto& p : processes_of_session(pid_)) kill(p.pid, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    hang_up();
  }

  // Closes the terminal, as closing its window does: the kernel sends SIGHUP to the tutor.
  void hang_up() {
    stop_reading_ = true;
    if (reader_.joinable()) reader_.join();
    if (master_ >= 0) close(master_);
    master_ = -1;
  }

  bool started() const { return pid_ > 0; }
  pid_t session() const { return pid_; }

  // The latest frame (each starts at the top left), without escape codes.
  std::string screen() {
    std::lock_guard lock(mutex_);
    return frame_of(raw_);
  }

  // Waits until the screen shows `text`.
  bool wait_for(const std::string& text, Clock::duration deadline = kDeadline) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, deadline, [&] {
      return frame_of(raw_).find(text) != std::string::npos || closed_;
    }) && frame_of(raw_).find(text) != std::string::npos;
  }

  void send(const std::string& keys) { (void)!write(master_, keys.data(), keys.size()); }

  // The tutor's exit code once it has ended (-1 if it did not end in time, 128+n for signal n).
  int wait_exit(Clock::duration deadline = kDeadline) {
    const auto until = Clock::now() + deadline;
    int status = 0;
    while (Clock::now() < until) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      // Waiting on the end of a process: there is no descriptor to poll for it.
      std::this_thread::sleep_for(5ms);
    }
    return -1;
  }

 private:
  static std::string frame_of(const std::string& raw) {
    const auto at = raw.rfind("\x1b[H");
    return without_escapes(at == std::string::npos ? raw : raw.substr(at));
  }

  // Reads until the terminal closes; looks at stop_reading_ every 20 ms (a read blocked on the
  // terminal would keep it open after a close()).
  void read_all() {
    char buffer[8192];
    while (!stop_reading_) {
      pollfd ready{master_, POLLIN, 0};
      if (poll(&ready, 1, 20) == 0) continue;
      const ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {  // EIO: the tutor and everything on its terminal are gone
        closed_ = true;
        arrived_.notify_all();
        return;
      }
      raw_.append(buffer, static_cast<std::size_t>(n));
      arrived_.notify_all();
    }
  }

  int master_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::string raw_;
  bool closed_ = false;
  std::atomic<bool> stop_reading_{false};
};

bool eventually(const std::function<bool()>& condition, Clock::duration deadline = kDeadline) {
  const auto until = Clock::now() + deadline;
  while (!condition()) {
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(10ms);  // what is watched (/proc) has no descriptor to wait on
  }
  return true;
}

// The test program of a kata of the course `prefix`, running in the session.
// A test of `target` is running: from its program, or from the program of its first test alone
// (<target>.first, which the tutor runs while the rest of the kata still compiles).
bool test_running(pid_t session, const std::string& target) {
  for (const auto& p : processes_of_session(session))
    for (const char* program : {"", ".first"})
      if (p.command.find("/bin/" + target + program + " --gtest_filter") != std::string::npos)
        return true;
  return false;
}

std::string describe(const std::vector<SessionProcess>& processes) {
  std::string text;
  for (const auto& p : processes) text += fmt::format("\n  {} {}", p.pid, p.command);
  return text;
}

class WatchLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = fs::temp_directory_path() /
             ("tutor-watch-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state_);
    fs::create_directories(state_);
  }
  void TearDown() override { fs::remove_all(state_); }

  // The copy `name` of the fixture course with the starters back (a file is rewritten only when
  // it differs: an unchanged file keeps its time and its kata needs no new build), committed
  // to a fresh git repository.
  fs::path prepare_copy(const std::string& name) {
    const fs::path copy = kCopies / (name + "-course");
    for (const auto& entry : fs::recursive_directory_iterator(kCourse)) {
      if (!entry.is_regular_file()) continue;
      const fs::path relative = fs::relative(entry.path(), kCourse);
      if (relative == "curriculum.json") continue;  // the copy's has a longer timeout
      const fs::path target = copy / relative;
      if (fs::exists(target) && read(target) == read(entry.path())) continue;
      fs::create_directories(target.parent_path());
      fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
      // copy_file may keep the original's time, older than the binary built from what the
      // last run saved there: the build must see the starter as new.
      fs::last_write_time(target, fs::file_time_type::clock::now());
    }
    fs::remove_all(copy / ".git");
    const std::string git = "cd '" + copy.string() +
                            "' && git init -q && git add -A && git -c user.name=t -c "
                            "user.email=t@t commit -qm fixture";
    EXPECT_EQ(std::system(git.c_str()), 0) << "could not make a git repository of " << copy;
    return copy;
  }

  std::vector<std::string> args(const fs::path& course, const std::string& prefix) const {
    return {"--course",      course.string(), "--target-prefix", prefix, "--state-dir",
            state_.string(), "start"};
  }

  // After the tutor has quit: nothing of its session may be left.
  void expect_nothing_left(pid_t session) {
    const bool clean = eventually([&] { return processes_of_session(session).empty(); }, 5s);
    EXPECT_TRUE(clean) << "processes the tutor left behind:"
                       << describe(processes_of_session(session));
  }

  fs::path state_;
};

TEST_F(WatchLoop, AnswersSavesAndKeysAndLeavesNothingBehind) {
  const fs::path course = prepare_copy("watch");
  const fs::path add = course / "katas/01a-add/add.hpp";
  const fs::path wait = course / "katas/01b-wait/wait.hpp";
  PtyTutor tutor(args(course, "watch."), {});
  ASSERT_TRUE(tutor.started());

  // It starts on the first kata that fails, with its first failure's message.
  ASSERT_TRUE(tutor.wait_for("1 of 2 tests do not pass")) << tutor.screen();
  std::string screen = tutor.screen();
  EXPECT_NE(screen.find("Add.AddsNegativeNumbers: -2 + 3 should be 1"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("Kata 01a · Add two numbers"), std::string::npos) << screen;
  EXPECT_NE(screen.find("Edit   katas/01a-add/add.hpp"), std::string::npos) << screen;
  EXPECT_NE(screen.find("0/2 katas · lesson 01 · watching with inotify"), std::string::npos)
      << screen;
  EXPECT_NE(screen.find("1 of 2 tests do not pass"), std::string::npos) << screen;

  // h: the first hint only.
  tutor.send("h");
  ASSERT_TRUE(tutor.wait_for("Hint 1 of 2: First hint: look at the signs.")) << tutor.screen();
  EXPECT_EQ(tutor.screen().find("Second hint"), std::string::npos) << tutor.screen();

  // n before the kata passes does not move on.
  tutor.send("n");
  ASSERT_TRUE(tutor.wait_for("n moves on once kata 01a passes")) << tutor.screen();

  // A save (as vim saves: a new file renamed over the old) turns it green, no key pressed.
  write_by_rename(add, read(course / "solutions/01a-add/add.hpp"));
  ASSERT_TRUE(tutor.wait_for("all 2 tests pass")) << tutor.screen();
  EXPECT_NE(tutor.screen().find("1/2 katas"), std::string::npos) << tutor.screen();

  // n moves on to 01b, whose starter hangs.
  tutor.send("n");
  ASSERT_TRUE(tutor.wait_for("Kata 01b · Return instead of waiting")) << tutor.screen();
  ASSERT_TRUE(eventually([&] { return test_running(tutor.session(), "watch.kata.01b"); }))
      << "01b's test never started:" << describe(processes_of_session(tutor.session()));

  // A save while that test runs (written in place this time) stops it and grades again.
  write_in_place(wait, "// my attempt\n");
  ASSERT_TRUE(tutor.wait_for("BUILD ERROR")) << tutor.screen();
  EXPECT_FALSE(test_running(tutor.session(), "watch.kata.01b"))
      << "the hanging test should have been stopped by the save";

  // x asks first, then resets and keeps a backup.
  tutor.send("x");
  ASSERT_TRUE(tutor.wait_for("Reset kata 01b to its starter?")) << tutor.screen();
  EXPECT_EQ(read(wait), "// my attempt\n") << "x must not reset before y";
  tutor.send("y");
  ASSERT_TRUE(tutor.wait_for("is back to its starter")) << tutor.screen();
  EXPECT_EQ(read(wait), read(kCourse / "katas/01b-wait/wait.hpp"));
  bool backed_up = false;
  for (const auto& entry : fs::recursive_directory_iterator(state_ / "backups"))
    backed_up = backed_up ||
                (entry.path().filename() == "wait.hpp" && read(entry.path()) == "// my attempt\n");
  EXPECT_TRUE(backed_up) << "the learner's version should be in the backups folder";

  // q while the starter's test hangs: the tutor quits at once and leaves nothing behind.
  ASSERT_TRUE(eventually([&] { return test_running(tutor.session(), "watch.kata.01b"); }))
      << "01b's test never started again:" << describe(processes_of_session(tutor.session()));
  tutor.send("q");
  EXPECT_EQ(tutor.wait_exit(), 0) << tutor.screen();
  EXPECT_NE(tutor.screen().find("make start` picks up from here"), std::string::npos)
      << tutor.screen();
  expect_nothing_left(tutor.session());
}

TEST_F(WatchLoop, PollsTheFilesWhenAskedAndEndsWithTheClosingMessage) {
  const fs::path course = prepare_copy("poll");
  PtyTutor tutor(args(course, "poll."), {{"TUTOR_WATCH", "poll"}});
  ASSERT_TRUE(tutor.started());
  ASSERT_TRUE(tutor.wait_for("1 of 2 tests do not pass")) << tutor.screen();
  EXPECT_NE(tutor.screen().find("watching by polling every 0.2 s"), std::string::npos)
      << tutor.screen();

  write_in_place(course / "katas/01a-add/add.hpp", read(course / "solutions/01a-add/add.hpp"));
  ASSERT_TRUE(tutor.wait_for("all 2 tests pass")) << tutor.screen();
  tutor.send("n");
  ASSERT_TRUE(tutor.wait_for("Kata 01b · Return instead of waiting")) << tutor.screen();
  write_in_place(course / "katas/01b-wait/wait.hpp", read(course / "solutions/01b-wait/wait.hpp"));
  // The last kata: the closing message, with make bench.
  ASSERT_TRUE(tutor.wait_for("Every kata passes: 2 of 2.")) << tutor.screen();
  EXPECT_NE(tutor.screen().find("The fixture course is done."), std::string::npos)
      << tutor.screen();
  // The closing message may still be arriving: wait for its last part instead of looking once.
  EXPECT_TRUE(tutor.wait_for("make bench")) << tutor.screen();

  tutor.send("\x03");  // Ctrl-C quits like q
  EXPECT_EQ(tutor.wait_exit(), 0) << tutor.screen();
  expect_nothing_left(tutor.session());
}

TEST_F(WatchLoop, ClosingTheTerminalStopsTheRunningTest) {
  // 01a is solved in this copy, so the loop starts on 01b, whose starter hangs.
  const fs::path course = prepare_copy("hangup");
  const fs::path add = course / "katas/01a-add/add.hpp";
  const std::string solved = read(course / "solutions/01a-add/add.hpp");
  if (read(add) != solved) write_in_place(add, solved);
  PtyTutor tutor(args(course, "hangup."), {});
  ASSERT_TRUE(tutor.started());
  ASSERT_TRUE(tutor.wait_for("Kata 01b · Return instead of waiting")) << tutor.screen();
  ASSERT_TRUE(eventually([&] { return test_running(tutor.session(), "hangup.kata.01b"); }))
      << "01b's test never started:" << describe(processes_of_session(tutor.session()));
  tutor.hang_up();
  EXPECT_EQ(tutor.wait_exit(), 128 + SIGHUP) << "the tutor should end by the SIGHUP it got";
  expect_nothing_left(tutor.session());
}

TEST_F(WatchLoop, ACorruptOrStaleStateFileIsRebuilt) {
  const fs::path state_file = state_ / "tutor-state.json";
  // Corrupt: not JSON at all.
  std::ofstream(state_file) << "{ this is not json";
  {
    PtyTutor tutor(args(kCourse, "course."), {});
    ASSERT_TRUE(tutor.started());
    ASSERT_TRUE(tutor.wait_for("1 of 2 tests do not pass")) << tutor.screen();
    EXPECT_NE(tutor.screen().find("0/2 katas"), std::string::npos) << tutor.screen();
    tutor.send("q");
    EXPECT_EQ(tutor.wait_exit(), 0) << tutor.screen();
    expect_nothing_left(tutor.session());
  }
  auto state = nlohmann::json::parse(read(state_file), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(state.is_discarded()) << read(state_file);
  EXPECT_EQ(state["last_status"].value("01a", ""), "FAIL") << read(state_file);

  // Stale: a pass that no longer holds, a kata the course does not have, an unknown status and
  // more hints seen than there are.
  std::ofstream(state_file) << R"({"hints_shown": {"01a": 9, "zz": 1},
                                   "last_status": {"01a": "PASS", "01b": "MAYBE", "zz": "PASS"}})";
  {
    PtyTutor tutor(args(kCourse, "course."), {});
    ASSERT_TRUE(tutor.started());
    ASSERT_TRUE(tutor.wait_for("1 of 2 tests do not pass")) << tutor.screen();
    EXPECT_NE(tutor.screen().find("0/2 katas"), std::string::npos) << tutor.screen();
    tutor.send("h");
    ASSERT_TRUE(tutor.wait_for("That was the last hint")) << tutor.screen();
    EXPECT_NE(tutor.screen().find("Hint 2 of 2: Second hint"), std::string::npos) << tutor.screen();
    tutor.send("q");
    EXPECT_EQ(tutor.wait_exit(), 0) << tutor.screen();
  }
  state = nlohmann::json::parse(read(state_file), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(state.is_discarded()) << read(state_file);
  EXPECT_EQ(state["last_status"], nlohmann::json::parse(R"({"01a": "FAIL"})")) << read(state_file);
  EXPECT_EQ(state["hints_shown"], nlohmann::json::parse(R"({"01a": 2})")) << read(state_file);
}

TEST_F(WatchLoop, WithoutATerminalStartPrintsTheSummaryAndExits) {
  tutor::RunRequest request;  // output to a pipe, input from /dev/null
  request.argv = {kTutor.string()};
  for (const auto& a : args(kCourse, "course.")) request.argv.push_back(a);
  request.timeout = 120s;
  const tutor::RunResult r = tutor::run_command(request);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("No kata passes yet"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << "escape codes in: " << r.output;
}

}  // namespace
