// double_flush: why a forked child must end with _exit(), not exit().
//
// The parent writes one line into a FILE* and does not flush it: the line waits in the
// FILE's buffer, in the parent's memory. Then it forks 3 children that do nothing and end.
// fork copies the buffer into every child. A child that ends with exit() flushes its copy;
// one that ends with _exit() does not. The parent flushes once at the end. Count the lines.
// Lesson 02 (README.md#leave-with-_exit) shows this output.
//
//   double_flush           run it (instant)
//   double_flush --quick   the same (make check runs every demo with --quick)
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// Runs the experiment once; returns what ended up in the file.
std::string run(bool children_use_exit) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("double_flush-" + std::to_string(getpid()) + ".txt");
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) {
    std::perror("fopen");
    std::exit(1);
  }
  std::setvbuf(file, nullptr, _IOFBF, 4096);  // fully buffered, as files are by default
  std::fputs("parent: hello\n", file);        // still in the buffer, not yet in the file

  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      std::exit(1);
    }
    if (pid == 0) {
      if (children_use_exit) std::exit(0);  // flushes this child's copy of the buffer
      _exit(0);                             // throws the copy away
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
  std::fclose(file);  // the parent's own flush

  std::ifstream in(path);
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove(path);
  return content;
}

int lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace

int main() {
  const std::string with_exit = run(true);
  const std::string with_underscore_exit = run(false);

  fmt::print("The parent wrote \"parent: hello\" once (unflushed), then forked 3 children.\n\n");
  fmt::print("{:<26} {:>22}\n", "children end with", "lines in the file");
  fmt::print("{:<26} {:>22}\n", "exit(0)", lines(with_exit));
  fmt::print("{:<26} {:>22}\n", "_exit(0)", lines(with_underscore_exit));
  fmt::print("\nThe file after exit(0):\n{}", with_exit);
  fmt::print("\nThe file after _exit(0):\n{}", with_underscore_exit);
  return 0;
}
