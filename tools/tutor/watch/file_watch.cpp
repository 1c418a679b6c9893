#include "file_watch.hpp"

#include <errno.h>
#include <fmt/format.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>

namespace tutor::watch {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kFolderEvents = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM |
                                   IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF |
                                   IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

FileWatch::FileWatch(bool force_polling) {
  if (force_polling) {
    fall_back_to_polling("asked for");
    return;
  }
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) fall_back_to_polling(fmt::format("inotify: {}", std::strerror(errno)));
}

FileWatch::~FileWatch() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

void FileWatch::fall_back_to_polling(const std::string& why) {
  mode_ = Mode::Polling;
  polling_reason_ = why;
  if (inotify_fd_ >= 0) close(inotify_fd_);
  inotify_fd_ = -1;
  folders_.clear();
}

std::string FileWatch::describe() const {
  if (mode_ == Mode::Inotify) return "watching with inotify";
  return fmt::format("watching by polling every {:.1f} s ({})",
                     std::chrono::duration<double>(kPollInterval).count(), polling_reason_);
}

std::chrono::milliseconds FileWatch::interval() const {
  // Inotify needs no look of ours, except to put back a folder watch that went away.
  if (mode_ == Mode::Inotify && !rewatch_) return std::chrono::hours(1);
  return kPollInterval;
}

FileWatch::Signature FileWatch::look(const fs::path& file) {
  Signature s;
  struct stat st {};
  if (stat(file.c_str(), &st) != 0) return s;
  s.exists = true;
  s.size = st.st_size;
  s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
  s.inode = st.st_ino;
  return s;
}

void FileWatch::remove_watches() {
  for (const auto& [wd, folder] : folders_) inotify_rm_watch(inotify_fd_, wd);
  folders_.clear();
}

bool FileWatch::add_watches() {
  std::set<fs::path> folders;
  for (const auto& file : files_) folders.insert(file.parent_path());
  bool all = true;
  for (const auto& folder : folders) {
    const int wd = inotify_add_watch(inotify_fd_, folder.c_str(), kFolderEvents);
    if (wd < 0) {
      // ENOSPC: the per-user watch limit; ENOENT: the folder is gone for now (look again soon).
      if (errno != ENOENT) {
        fall_back_to_polling(
            fmt::format("inotify could not watch {}: {}", folder.string(), std::strerror(errno)));
        return false;
      }
      all = false;
      continue;
    }
    folders_[wd] = folder;
  }
  rewatch_ = !all;
  return true;
}

void FileWatch::watch(const std::vector<fs::path>& files) {
  files_.clear();
  for (const auto& file : files) files_.push_back(file.lexically_normal());
  seen_.clear();
  for (const auto& file : files_) seen_[file] = look(file);
  if (mode_ != Mode::Inotify) return;
  remove_watches();
  add_watches();
}

bool FileWatch::check() {
  bool changed = false;
  if (mode_ == Mode::Inotify) {
    alignas(struct inotify_event) char buffer[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
    for (;;) {
      const ssize_t n = read(inotify_fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      for (char* at = buffer; at < buffer + n;) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(at);
        at += sizeof(struct inotify_event) + event->len;
        if (event->mask & IN_Q_OVERFLOW) {
          changed = true;  // events were lost: assume the worst
          continue;
        }
        auto folder = folders_.find(event->wd);
        if (folder == folders_.end()) continue;
        if (event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
          // The folder itself was removed or renamed: watch it again once it is back.
          if (event->mask & IN_IGNORED) folders_.erase(folder);
          rewatch_ = true;
          changed = true;
          continue;
        }
        if (event->len == 0) continue;
        const fs::path touched = folder->second / event->name;
        for (const auto& file : files_) changed = changed || file == touched;
      }
    }
    if (rewatch_ && mode_ == Mode::Inotify) {
      remove_watches();
      if (add_watches() && !rewatch_) changed = true;  // back: it may hold new versions
    }
    if (mode_ == Mode::Inotify) return changed;
  }
  // Polling (also after a fall-back above).
  for (const auto& file : files_) {
    const Signature now = look(file);
    if (!(now == seen_[file])) {
      seen_[file] = now;
      changed = true;
    }
  }
  return changed;
}

}  // namespace tutor::watch
