// Kata 05b · Share a key/value store through a server process, like Python's Manager
// Lesson: lessons/05-process-pools/README.md#a-server-process-pythons-manager
//
// Make StoreServer start a server process that owns the store (a map from string keys to long
// values) and make StoreClient a proxy: each get, set and add becomes a request frame on the
// client's own connection (a socketpair made before the fork) and waits for the server's reply.
// One server serves every client, one request at a time, so add() is never lost; it stops (exit
// code 0) when the last client has left, and a client that dies costs only its own connection.
//
// Grade it: make test KATA=05b        Stuck? make hint KATA=05b
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "wire.hpp"  // frames on pipes and sockets, Writer/Reader, given (support/wire.hpp)

namespace kata {

// A request the store could not answer: the connection to the server broke (the server process
// is gone, or was never there), or the reply made no sense.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How the server process ended (as testkit::describe and lesson 02 spell it).
struct ServerExit {
  bool exited = false;  // it ended normally; see exit_code
  int exit_code = -1;   // 0 when it stopped because every client had left
  int signal = 0;       // the signal that ended it, when !exited
};

// Given: what travels on a connection. A request is [op][key][value], a reply is [found][value].
namespace detail {

enum class Op : std::uint8_t { kGet, kSet, kAdd, kServerPid };

inline std::string request(Op op, const std::string& key = "", long value = 0) {
  return wire::Writer().put(static_cast<std::uint8_t>(op)).put(key).put(value).bytes();
}

inline std::string reply(bool found, long value) {
  return wire::Writer().put(found).put(value).bytes();
}

}  // namespace detail

// A client's proxy to the store: every call is one request to the server and one reply.
// Move-only; it owns its end of one connection and closes it when destroyed.
class StoreClient {
 public:
  StoreClient(StoreClient&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  StoreClient& operator=(StoreClient&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~StoreClient() { close(); }

  // The value stored under `key`, or std::nullopt when the key was never set or added to.
  std::optional<long> get(const std::string& key) {
    wire::Reader answer(call(detail::request(detail::Op::kGet, key)));
    const bool found = answer.get<bool>();
    const long value = answer.get<long>();
    return found ? std::optional<long>(value) : std::nullopt;
  }

  // Stores `value` under `key`.
  void set(const std::string& key, long value) {
    call(detail::request(detail::Op::kSet, key, value));
  }

  // Adds `delta` to the value under `key` (a missing key counts as 0) in one step of the server
  // and returns the new value.
  long add(const std::string& key, long delta) {
    wire::Reader answer(call(detail::request(detail::Op::kAdd, key, delta)));
    answer.get<bool>();
    return answer.get<long>();
  }

  // The process id of the process that serves this client.
  pid_t server_pid() {
    wire::Reader answer(call(detail::request(detail::Op::kServerPid)));
    answer.get<bool>();
    return static_cast<pid_t>(answer.get<long>());
  }

  // This client's end of its connection (-1 once closed).
  int fd() const { return fd_; }

  // Leaves: closes this client's end of the connection. Calls after close() throw StoreError.
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  friend class StoreServer;
  explicit StoreClient(int fd) : fd_(fd) {}

  // One round trip: the request frame out, the reply frame back.
  std::string call(const std::string& request) {
    if (fd_ < 0) throw StoreError("this client has closed its connection");
    std::optional<std::string> answer;
    try {
      wire::write_frame(fd_, request);
      answer = wire::read_frame(fd_);
    } catch (const std::exception& error) {
      throw StoreError(std::string("the connection to the server broke: ") + error.what());
    }
    if (!answer) throw StoreError("the server closed the connection before it replied");
    return *std::move(answer);
  }

  int fd_ = -1;
};

// Starts a server process that owns the store and serves `clients` connections, one per client.
class StoreServer {
 public:
  explicit StoreServer(int clients) {
    if (clients < 1) throw std::invalid_argument("a store server needs at least one client");
    std::vector<int> server_ends;
    const auto close_all = [&] {
      for (int fd : server_ends) ::close(fd);
      for (int fd : client_ends_) ::close(fd);
    };
    for (int i = 0; i < clients; ++i) {
      int pair[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        const int error = errno;
        close_all();
        throw std::system_error(error, std::generic_category(), "socketpair");
      }
      server_ends.push_back(pair[0]);
      client_ends_.push_back(pair[1]);
    }
    pid_ = fork();
    if (pid_ < 0) {
      const int error = errno;
      close_all();
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid_ == 0) {
      // The server keeps no client end: a client has left only when every copy of its end is
      // closed, and a copy in here would keep each connection open forever.
      for (int fd : client_ends_) ::close(fd);
      int code = 1;
      try {
        code = serve(server_ends);
      } catch (...) {
      }
      _exit(code);  // never back into the code that constructed the server
    }
    for (int fd : server_ends) ::close(fd);
  }

  // Closes the connections this process still holds, then waits for the server to stop.
  ~StoreServer() {
    try {
      wait();
    } catch (...) {
    }
  }
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  // The server process's id.
  pid_t pid() const { return pid_; }

  // How many connections the server was started with.
  int clients() const { return static_cast<int>(client_ends_.size()); }

  // Hands connection `i` to the caller, in the process that will use it (a child forked after
  // the server takes its own). Each connection is handed out once per process.
  StoreClient client(int i) {
    if (i < 0 || i >= clients() || client_ends_[i] < 0) {
      throw std::logic_error("connection " + std::to_string(i) +
                             " does not exist or was already handed out");
    }
    return StoreClient(std::exchange(client_ends_[i], -1));
  }

  // Closes every connection end this process holds and has not handed out. A parent that has
  // forked its clients calls it so that only the clients hold their connections.
  void close_clients() {
    for (int& fd : client_ends_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }

  // Closes this process's connection ends, waits until the server has stopped (once every
  // client has left) and reaps it. Returns how it ended; later calls return the same.
  ServerExit wait() {
    close_clients();
    if (waited_) return exit_;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    waited_ = true;
    if (WIFEXITED(status)) {
      exit_.exited = true;
      exit_.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_.signal = WTERMSIG(status);
    }
    return exit_;
  }

 private:
  // The server: waits on every connection at once and answers one request at a time, so each
  // request sees the store as the previous one left it. Returns 0 once every client has left.
  static int serve(const std::vector<int>& connections) {
    std::map<std::string, long> store;
    std::vector<pollfd> open;
    for (int fd : connections) open.push_back(pollfd{fd, POLLIN, 0});
    while (!open.empty()) {
      if (poll(open.data(), open.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return 1;
      }
      for (std::size_t i = 0; i < open.size();) {
        if (open[i].revents != 0 && !answer(open[i].fd, store)) {
          ::close(open[i].fd);  // this client has left, or broke its connection: drop it
          open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
    }
    return 0;
  }

  // Reads one request from `fd`, applies it and replies. False when the connection is over.
  static bool answer(int fd, std::map<std::string, long>& store) {
    try {
      const std::optional<std::string> request = wire::read_frame(fd);
      if (!request) return false;  // end of file: the client has left
      wire::Reader reader(*request);
      const auto op = static_cast<detail::Op>(reader.get<std::uint8_t>());
      const auto key = reader.get<std::string>();
      const long value = reader.get<long>();
      std::string reply;
      switch (op) {
        case detail::Op::kGet: {
          const auto found = store.find(key);
          reply =
              found == store.end() ? detail::reply(false, 0) : detail::reply(true, found->second);
          break;
        }
        case detail::Op::kSet:
          store[key] = value;
          reply = detail::reply(true, value);
          break;
        case detail::Op::kAdd:
          reply = detail::reply(true, store[key] += value);
          break;
        case detail::Op::kServerPid:
          reply = detail::reply(true, getpid());
          break;
        default:
          return false;  // not a request of ours
      }
      wire::write_frame(fd, reply);
      return true;
    } catch (const std::exception&) {
      // The client died half-way through a request (wire::WireError), or before its reply
      // could be written (EPIPE): only this connection is lost.
      return false;
    }
  }

  std::vector<int> client_ends_;
  pid_t pid_ = -1;
  bool waited_ = false;
  ServerExit exit_{};
};

}  // namespace kata
