// Tells the watch loop when one of a kata's files may have changed.
//
// With inotify (the system call; no inotify-tools needed) it watches the files' folders, not
// the files: editors that save by writing a new file and renaming it over the old one (vim,
// many IDEs) replace the inode, and a watch on the old inode would go quiet. Where inotify is
// unavailable (a limit reached, some containers, or asked for: network file systems do not
// report changes made elsewhere) it polls: every interval it compares each file's size, mtime
// and inode with the last look.
//
// "May have changed" is all it says: the loop waits until the events stop for a moment (an
// editor writes a file in several steps) and then compares the files' contents with what it
// graded last.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tutor::watch {

class FileWatch {
 public:
  enum class Mode { Inotify, Polling };

  // force_polling: poll even where inotify works.
  explicit FileWatch(bool force_polling);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Watches these files from now on (and no others).
  void watch(const std::vector<std::filesystem::path>& files);

  Mode mode() const { return mode_; }
  // "watching with inotify", or "watching by polling every 0.2 s (<why>)".
  std::string describe() const;

  // The descriptor to poll() for input (inotify), or -1 when polling.
  int fd() const { return mode_ == Mode::Inotify ? inotify_fd_ : -1; }
  // How long the loop may sleep before it must call check() again.
  std::chrono::milliseconds interval() const;

  // Reads what happened: true if a watched file may have changed since the last call.
  bool check();

  static constexpr std::chrono::milliseconds kPollInterval{200};

 private:
  struct Signature {
    bool exists = false;
    long long size = 0;
    long long mtime_ns = 0;
    unsigned long long inode = 0;
    bool operator==(const Signature&) const = default;
  };
  static Signature look(const std::filesystem::path& file);
  void fall_back_to_polling(const std::string& why);
  bool add_watches();
  void remove_watches();

  Mode mode_ = Mode::Inotify;
  std::string polling_reason_;
  int inotify_fd_ = -1;
  std::vector<std::filesystem::path> files_;
  std::map<int, std::filesystem::path> folders_;  // watch descriptor -> folder
  bool rewatch_ = false;                          // a folder's watch went away (moved, deleted)
  std::map<std::filesystem::path, Signature> seen_;
};

}  // namespace tutor::watch
