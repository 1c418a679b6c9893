// The terminal of the watch loop, kept small: keys arrive one by one without echo, and the
// terminal is put back as it was on every way out (return, exception, std::terminate, a fatal
// signal, SIGTERM/SIGHUP handled by the loop).
//
// "Raw" here means: no line buffering, no echo, and no signals from keys (Ctrl-C arrives as the
// byte 0x03, so the loop can stop its builds and tests before it leaves), no Ctrl-S/Ctrl-Q flow
// control. Output processing stays on. Escape codes are the plain ANSI ones every terminal
// emulator understands; the loop only runs on a terminal.
#pragma once

#include <string_view>

namespace tutor::watch {

class RawTerminal {
 public:
  // Enters raw mode on `in_fd` and hides the cursor on `out_fd`.
  RawTerminal(int in_fd, int out_fd);
  ~RawTerminal();  // restores both
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // Raw mode again (after SIGCONT: the shell may have changed the mode while we were stopped).
  void reapply();

  struct Size {
    int rows = 24;
    int cols = 80;
  };
  Size size() const;

 private:
  int in_fd_;
  int out_fd_;
};

// Puts the terminal back (mode and cursor). Async-signal-safe; does nothing when no
// RawTerminal is active.
void restore_terminal_now();

// Writes all of `text` to `fd`, retrying on short writes and EINTR; false if the terminal is
// gone (EIO after a hang-up) or another error.
bool write_all(int fd, std::string_view text);

}  // namespace tutor::watch
