// A small wire format for bytes between processes, given solved: frames on a pipe or socket,
// and an encoding of integers, strings and vectors inside a frame. See "Serializing arguments
// and results" in lessons/05-process-pools/README.md.
//
//   frame   = [ length: 8 bytes ][ payload: length bytes ]
//   integer = its bytes at the type's own width (host byte order)
//   string  = [ length: 8 bytes ][ its bytes ]
//   vector  = [ count: 8 bytes ][ each element, encoded ]
//
// A pipe has no message boundaries: one write() may arrive as several read()s and two writes as
// one. write_frame() and read_frame() put the boundaries back. Neither side of a frame is
// portable between machines of different byte order, and nothing here is versioned; between a
// parent and the children it forked that does not matter.
//
// Katas 05a and 05b use it. Nothing here is for you to edit.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace wire {

// The stream or a payload is not what the format says: the writer died in the middle of a
// frame, or a payload is shorter than what is being decoded from it.
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- Raw bytes ---------------------------------------------------------------------------------

// Writes all `size` bytes, looping over short writes and EINTR. Throws std::system_error on an
// error; EPIPE (nobody holds the read end any more) is an error like any other, and the write
// does not raise SIGPIPE (whose default action would end the whole process).
inline void write_all(int fd, const void* data, std::size_t size) {
  // Block SIGPIPE for this thread while writing; a SIGPIPE the write raises stays pending and is
  // taken out below, so neither this thread nor any other sees it.
  sigset_t pipe_only, before;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
  const bool was_pending = [&] {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
  }();
  const char* bytes = static_cast<const char*>(data);
  std::size_t done = 0;
  int error = 0;
  while (done < size) {
    const ssize_t n = write(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == EPIPE && !was_pending) {
    const timespec now{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (error != 0) throw std::system_error(error, std::generic_category(), "write");
}

// Reads until `size` bytes have arrived or the stream ends, looping over short reads and EINTR.
// Returns how many bytes were read: `size`, or fewer only at end of file. Throws
// std::system_error on an error.
inline std::size_t read_exact(int fd, void* data, std::size_t size) {
  char* bytes = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "read");
    if (n == 0) break;  // end of file
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// ---- Frames ------------------------------------------------------------------------------------

// Writes one frame: the payload's length (8 bytes), then the payload. Throws std::system_error.
inline void write_frame(int fd, std::string_view payload) {
  const std::uint64_t length = payload.size();
  std::string frame(sizeof length + payload.size(), '\0');
  std::memcpy(frame.data(), &length, sizeof length);
  std::memcpy(frame.data() + sizeof length, payload.data(), payload.size());
  write_all(fd, frame.data(), frame.size());  // one call: frames of two writers never interleave
}

// Reads one frame and returns its payload; std::nullopt when the stream ended cleanly, before
// the first byte of a frame. Throws WireError when it ends inside a frame (the writer died half
// way), std::system_error on a read error.
inline std::optional<std::string> read_frame(int fd) {
  std::uint64_t length = 0;
  const std::size_t got = read_exact(fd, &length, sizeof length);
  if (got == 0) return std::nullopt;
  if (got < sizeof length) {
    throw WireError("the stream ended inside a frame's length (" + std::to_string(got) +
                    " of 8 bytes): did the writer die half way?");
  }
  std::string payload(length, '\0');
  const std::size_t arrived = read_exact(fd, payload.data(), payload.size());
  if (arrived < length) {
    throw WireError("the stream ended inside a frame: " + std::to_string(arrived) + " of " +
                    std::to_string(length) + " bytes arrived. Did the writer die half way?");
  }
  return payload;
}

// ---- Encoding values inside a payload
// ------------------------------------------------------------

template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {};

// The types this format encodes: integers (and bool, char), std::string, and std::vector of these.
template <typename T>
concept Encodable = std::integral<T> || std::same_as<T, std::string> || is_vector<T>::value;

// Appends values to a payload: `std::string p = wire::Writer().put(7).put(name).bytes();`.
class Writer {
 public:
  template <std::integral T>
  Writer& put(T value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  Writer& put(std::string_view text) {
    put(static_cast<std::uint64_t>(text.size()));
    bytes_.append(text.data(), text.size());
    return *this;
  }
  Writer& put(const std::string& text) { return put(std::string_view(text)); }
  Writer& put(const char* text) { return put(std::string_view(text)); }
  template <typename T>
  Writer& put(const std::vector<T>& values) {
    put(static_cast<std::uint64_t>(values.size()));
    for (const T& value : values) put(value);
    return *this;
  }

  const std::string& bytes() const& { return bytes_; }
  std::string bytes() && { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Takes values out of a payload in the order they were put in:
// `wire::Reader r(p); int x = r.get<int>(); std::string name = r.get<std::string>();`.
// Throws WireError when the payload is too short for what is asked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  template <Encodable T>
  T get() {
    if constexpr (std::integral<T>) {
      T value;
      std::memcpy(&value, take(sizeof value).data(), sizeof value);
      return value;
    } else if constexpr (std::same_as<T, std::string>) {
      const auto size = get<std::uint64_t>();
      return std::string(take(size));
    } else {
      const auto count = get<std::uint64_t>();
      T values;
      for (std::uint64_t i = 0; i < count; ++i) values.push_back(get<typename T::value_type>());
      return values;
    }
  }

  // True once every byte has been taken.
  bool done() const { return at_ == bytes_.size(); }

 private:
  std::string_view take(std::uint64_t size) {
    if (size > bytes_.size() - at_) {
      throw WireError("a payload of " + std::to_string(bytes_.size()) + " bytes ended at byte " +
                      std::to_string(at_) + " while " + std::to_string(size) +
                      " more were expected");
    }
    const std::string_view part = bytes_.substr(at_, size);
    at_ += size;
    return part;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
};

// One value as a payload, and back: `wire::decode<long>(wire::encode(42L)) == 42`.
template <Encodable T>
std::string encode(const T& value) {
  return Writer().put(value).bytes();
}

// Throws WireError when the payload is too short, or longer than one T.
template <Encodable T>
T decode(std::string_view payload) {
  Reader reader(payload);
  T value = reader.get<T>();
  if (!reader.done()) {
    throw WireError("a payload of " + std::to_string(payload.size()) +
                    " bytes holds more than the value decoded from it");
  }
  return value;
}

}  // namespace wire
