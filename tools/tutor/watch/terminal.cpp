#include "terminal.hpp"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <exception>

namespace tutor::watch {

namespace {

// What a signal handler needs to put the terminal back: plain globals, set before raw mode.
struct termios saved_mode;
volatile sig_atomic_t active = 0;
int saved_in_fd = -1;
int saved_out_fd = -1;
constexpr char kShowCursor[] = "\x1b[?25h";
constexpr char kHideCursor[] = "\x1b[?25l";

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction previous_fatal[sizeof kFatalSignals / sizeof kFatalSignals[0]];
std::terminate_handler previous_terminate = nullptr;

void on_fatal_signal(int sig) {
  restore_terminal_now();
  signal(sig, SIG_DFL);
  raise(sig);
}

void on_terminate() {
  restore_terminal_now();
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}

void set_raw(int fd) {
  struct termios raw = saved_mode;
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
  raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  tcsetattr(fd, TCSAFLUSH, &raw);
}

}  // namespace

void restore_terminal_now() {
  if (!active) return;
  active = 0;
  tcsetattr(saved_in_fd, TCSAFLUSH, &saved_mode);
  (void)!write(saved_out_fd, kShowCursor, sizeof kShowCursor - 1);
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawTerminal::RawTerminal(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {
  tcgetattr(in_fd, &saved_mode);
  saved_in_fd = in_fd;
  saved_out_fd = out_fd;
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) {
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    sigaction(kFatalSignals[i], &action, &previous_fatal[i]);
  }
  previous_terminate = std::set_terminate(on_terminate);
  active = 1;
  set_raw(in_fd);
  write_all(out_fd, kHideCursor);
}

RawTerminal::~RawTerminal() {
  restore_terminal_now();
  std::set_terminate(previous_terminate);
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i)
    sigaction(kFatalSignals[i], &previous_fatal[i], nullptr);
}

void RawTerminal::reapply() {
  if (!active) return;
  set_raw(in_fd_);
  write_all(out_fd_, kHideCursor);
}

RawTerminal::Size RawTerminal::size() const {
  Size size;
  struct winsize ws {};
  if (ioctl(out_fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    size.rows = ws.ws_row;
    size.cols = ws.ws_col;
  }
  return size;
}

}  // namespace tutor::watch
