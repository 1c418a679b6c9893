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
//
// TODO: this "proxy" changes a std::map through a pointer. In a child forked after the server
// was made, that map is the child's own copy-on-write copy: the parent, and every other child,
// never see the change. A proxy owns a connection to the server instead (an fd) and sends each
// call as a request frame (wire::write_frame, wire::Writer), then reads the reply
// (wire::read_frame, wire::Reader). What should a call do when the server has gone?
class StoreClient {
 public:
  StoreClient(StoreClient&&) noexcept = default;
  StoreClient& operator=(StoreClient&&) noexcept = default;
  ~StoreClient() { close(); }

  // The value stored under `key`, or std::nullopt when the key was never set or added to.
  std::optional<long> get(const std::string& key) {
    const auto found = store_->find(key);
    return found == store_->end() ? std::nullopt : std::optional<long>(found->second);
  }

  // Stores `value` under `key`.
  void set(const std::string& key, long value) { (*store_)[key] = value; }

  // Adds `delta` to the value under `key` (a missing key counts as 0) in one step of the server
  // and returns the new value.
  long add(const std::string& key, long delta) { return (*store_)[key] += delta; }

  // The process id of the process that serves this client.
  pid_t server_pid() { return getpid(); }

  // This client's end of its connection (-1 once closed).
  int fd() const { return -1; }

  // Leaves: closes this client's end of the connection. Calls after close() throw StoreError.
  void close() {}

 private:
  friend class StoreServer;
  explicit StoreClient(std::map<std::string, long>* store) : store_(store) {}

  std::map<std::string, long>* store_;
};

// Starts a server process that owns the store and serves `clients` connections, one per client.
//
// TODO: there is no server process: the store is a member of this object, in the memory of the
// process that made it, and fork() gives every child a copy of it. Make one socketpair() per
// client, then fork() the server. The server keeps its ends of the pairs, the other processes
// the client ends; which ends must each side close? The server waits on all its connections at
// once: serve(), below. It must never return into the code that made the server.
class StoreServer {
 public:
  explicit StoreServer(int clients) : clients_(clients) {
    if (clients < 1) throw std::invalid_argument("a store server needs at least one client");
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
  pid_t pid() const { return getpid(); }

  // How many connections the server was started with.
  int clients() const { return clients_; }

  // Hands connection `i` to the caller, in the process that will use it (a child forked after
  // the server takes its own). Each connection is handed out once per process.
  StoreClient client(int i) {
    if (i < 0 || i >= clients_) {
      throw std::logic_error("connection " + std::to_string(i) + " does not exist");
    }
    return StoreClient(&store_);
  }

  // Closes every connection end this process holds and has not handed out. A parent that has
  // forked its clients calls it so that only the clients hold their connections.
  void close_clients() {}

  // Closes this process's connection ends, waits until the server has stopped (once every
  // client has left) and reaps it. Returns how it ended; later calls return the same.
  ServerExit wait() {
    close_clients();
    return ServerExit{true, 0, 0};
  }

 private:
  // TODO: the server's loop, run in the server process with its ends of the connections. Wait
  // on all of them at once, answer one request at a time, drop a connection that ends or
  // breaks (and only that one), and return 0 once none is left.
  static int serve(const std::vector<int>& connections) {
    (void)connections;
    return 0;
  }

  int clients_;
  std::map<std::string, long> store_;
};

}  // namespace kata
