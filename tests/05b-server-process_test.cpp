// Tests for kata 05b: a server process that owns a key/value store and serves client processes,
// each through a proxy (StoreClient) on a connection of its own: one server for every client,
// an exact total from children adding at once, keys and values intact, a server that stops by
// itself when its last client leaves, and clients that die without taking the server along.
//
// The clients are the test's own children (testkit::run_in_children, each dying with the test),
// forked after the server, as Python forks workers after Manager(). That one server serves
// several clients at once is proven by structure: every child gets its first reply and then
// waits at a testkit::ProcessLatch, still connected, until all have had theirs. A server that
// does not stop by itself is killed by the test (never left behind), and the test says so.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server_process.hpp"
#include "testkit/children.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"

namespace {

using namespace std::chrono_literals;
using Bodies = std::vector<std::function<int()>>;

// What makes a call on a client hang.
const char* const kCallHangHint =
    "A client waits for a reply that never comes. Does the server wait on one connection while "
    "requests arrive on others? Or is the server gone while a copy of its end of the "
    "connection, still open in another process, keeps end of file away from the client?";

// What keeps a server from stopping when its last client has left.
const char* const kStopHint =
    "The server ends only when every connection has read end of file, and a connection reads "
    "end of file only when every copy of its client end, in every process, is closed. Which "
    "process still holds one: the server itself, or this process after close_clients()?";

// A child's exit codes, besides the body's own 0.
constexpr int kCallThrewStoreError = 2;
constexpr int kCallThrewOther = 3;
constexpr int kStartLineBroken = 4;

std::string child_outcome(const testkit::ChildStatus& child) {
  if (child.exited && child.exit_code == kCallThrewStoreError) {
    return "had a call on its client throw kata::StoreError (the connection to the server broke)";
  }
  if (child.exited && child.exit_code == kCallThrewOther) {
    return "had a call on its client throw something other than kata::StoreError";
  }
  return testkit::describe(child);
}

// A client child's body: takes connection `k` in the child and works with it. Exits with code
// 0 when `work` returns 0, with the codes above when a call throws.
std::function<int()> client_child(kata::StoreServer& server, int k,
                                  std::function<int(kata::StoreClient&)> work) {
  return [&server, k, work = std::move(work)]() -> int {
    try {
      kata::StoreClient client = server.client(k);
      return work(client);
    } catch (const kata::StoreError&) {
      return kCallThrewStoreError;
    } catch (...) {
      return kCallThrewOther;
    }
  };
}

// "" when every child exited with code 0, else what the first other one did.
std::string not_all_exited_with_0(const std::vector<testkit::ChildStatus>& children) {
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i].exited || children[i].exit_code != 0) {
      return "client child " + std::to_string(i) + " " + child_outcome(children[i]) +
             ", not with code 0";
    }
  }
  return "";
}

bool is_child_of_this_process(pid_t pid) {
  for (const testkit::Child& child : testkit::children_of_this_process()) {
    if (child.pid == pid) return true;
  }
  return false;
}

// The server under test, watched through /proc from the moment it starts. The test never
// leaves it behind: when calls on clients are not answered in time, the test fails and kills
// the server (which also ends the calls: their connections read end of file); when it goes out
// of scope, a server that has not stopped within a few seconds of its last client leaving is
// killed, so that kata::StoreServer's destructor, which waits for it, never hangs the test.
class Server {
 public:
  explicit Server(int clients) : server_(clients), watch_(server_.pid()) {}
  ~Server() {
    if (!stopped_) not_stopped_by_itself();
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs calls on clients in the test process (`call`) or the test's client children
  // (run_clients); when they are not done within the deadline, the test fails and kills the
  // server. What still hangs after that becomes a TIMEOUT.
  template <typename Call>
  auto in_time(const std::string& what, Call&& call) {
    return answered_within(3s, what, std::forward<Call>(call));
  }
  std::vector<testkit::ChildStatus> run_clients(const Bodies& bodies, const std::string& what) {
    return answered_within(6s, what, [&] { return testkit::run_in_children(bodies); });
  }

  // What in_time() returns, or std::nullopt when the call threw kata::StoreError.
  template <typename Call>
  auto unless_broken(const std::string& what, Call&& call) -> std::optional<decltype(call())> {
    try {
      return in_time(what, std::forward<Call>(call));
    } catch (const kata::StoreError&) {
      return std::nullopt;
    }
  }

  // For messages: whether the server process has ended.
  const char* state() const { return watch_.ended() ? "had ended" : "was still running"; }

  kata::StoreServer* operator->() { return &server_; }
  kata::StoreServer& operator*() { return server_; }
  bool ended() const { return watch_.ended(); }

  // "" when the server is a process of its own (a child of this test process), else why not.
  std::string not_a_process_of_its_own() const {
    const pid_t pid = server_.pid();
    if (pid == getpid()) {
      return "StoreServer::pid() is the test process's own pid (" + std::to_string(pid) +
             "): is there a server process at all, or does the store live in the memory of the "
             "process that made it?";
    }
    if (!is_child_of_this_process(pid)) {
      return "StoreServer::pid() is " + std::to_string(pid) +
             ", which is not a child of the process that made the server: does pid() give the "
             "pid that fork() returned to the parent?";
    }
    return "";
  }

  // Closes the test's connection ends (close_clients()); then the server process must end by
  // itself, and wait() must report exit code 0. "" when it does, else what went wrong. A server
  // that does not end is killed.
  std::string not_stopped_by_itself() {
    stopped_ = true;
    server_.close_clients();
    const pid_t pid = server_.pid();
    const bool was_child = is_child_of_this_process(pid);
    const bool ended = !was_child || testkit::eventually([&] { return watch_.ended(); }, 4s);
    if (!ended) kill(pid, SIGKILL);
    const kata::ServerExit exit = testkit::finishes_within(
        5s, "StoreServer::wait() after every client had left", [&] { return server_.wait(); },
        kStopHint);
    if (!was_child) return not_a_process_of_its_own();
    if (!ended) {
      return std::string(
                 "the server process still ran 4 s after its last client had left (the test "
                 "killed it). ") +
             kStopHint;
    }
    if (!exit.exited || exit.exit_code != 0) {
      return "after its last client had left, the server " + testkit::describe(exit) +
             ", not with code 0: did something end it before it saw every client leave?";
    }
    return "";
  }

 private:
  template <typename Call>
  auto answered_within(std::chrono::milliseconds deadline, const std::string& what, Call&& call)
      -> decltype(call()) {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    std::thread keeper([&] {
      std::unique_lock lock(mutex);
      if (finished.wait_for(lock, deadline, [&] { return done; })) return;
      const pid_t pid = server_.pid();
      if (is_child_of_this_process(pid) && !watch_.ended()) kill(pid, SIGKILL);
      ADD_FAILURE() << what << " was not done after " << deadline.count() / 1000
                    << " s, so the test killed the server process. " << kCallHangHint;
    });
    struct Finish {
      std::function<void()> run;
      ~Finish() { run(); }
    } finish{[&] {
      {
        std::lock_guard lock(mutex);
        done = true;
      }
      finished.notify_one();
      keeper.join();
    }};
    return testkit::finishes_within(deadline + 3s, what, std::forward<Call>(call), kCallHangHint);
  }

  kata::StoreServer server_;
  testkit::ProcessWatch watch_;
  bool stopped_ = false;
};

class ServerProcess : public testkit::LeakCheckedTest {};

TEST_F(ServerProcess, AClientSetsGetsAndAdds) {
  Server server(1);
  kata::StoreClient client = server->client(0);
  server.in_time("calls on one client", [&] {
    EXPECT_EQ(client.get("apples"), std::nullopt)
        << "get() of a key that was never stored should give std::nullopt";
    client.set("apples", 7);
    EXPECT_EQ(client.get("apples"), std::optional<long>(7)) << "set(\"apples\", 7), then get()";
    EXPECT_EQ(client.add("apples", 5), 12) << "add(\"apples\", 5) after set(\"apples\", 7) "
                                              "should return the new value, 12";
    EXPECT_EQ(client.add("pears", -3), -3)
        << "add(\"pears\", -3) on a missing key should count from 0 and return -3";
    client.set("apples", 1);
    EXPECT_EQ(client.get("apples"), std::optional<long>(1)) << "set() should replace the value";
    EXPECT_EQ(client.get("pears"), std::optional<long>(-3)) << "each key keeps its own value";
  });
  client.close();
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, ChildrenAddingAtOnceGiveAnExactTotal) {
  constexpr int kChildren = 8;
  constexpr long kAdds = 1000;
  Server server(kChildren + 1);  // one connection per child, and one for the test
  kata::StoreClient mine = server->client(kChildren);
  testkit::Shared<testkit::ProcessLatch> start(kChildren);
  Bodies children;
  for (int k = 0; k < kChildren; ++k) {
    children.push_back(client_child(*server, k, [&](kata::StoreClient& client) {
      if (!start->arrive_and_wait(3s)) return kStartLineBroken;
      for (long i = 0; i < kAdds; ++i) client.add("hits", 1);
      return 0;
    }));
  }
  const auto statuses =
      server.run_clients(children, "8 children adding 1 to \"hits\" 1000 times each");
  const std::string children_failed = not_all_exited_with_0(statuses);
  ASSERT_TRUE(children_failed.empty()) << children_failed;
  const std::optional<long> total =
      server.in_time("get(\"hits\")", [&] { return mine.get("hits"); });
  mine.close();
  ASSERT_TRUE(total.has_value())
      << "8 children each added 1 to \"hits\" 1000 times, but the test's own client finds no "
         "\"hits\" at all: did each child add to its own copy of the store, in its own memory?";
  EXPECT_EQ(*total, kChildren * kAdds)
      << "8 children each added 1 to \"hits\" 1000 times, but the store holds " << *total
      << ": lost " << kChildren * kAdds - *total
      << " additions. Was each add() one request that the server applied in one step, or did a "
         "client read the value and write it back, with other clients' requests in between?";
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, OneServerProcessServesEveryClientAtOnce) {
  constexpr int kChildren = 8;
  Server server(kChildren);
  testkit::Shared<std::array<std::atomic<pid_t>, kChildren>> served_by;
  testkit::Shared<std::array<std::atomic<pid_t>, kChildren>> own_pid;
  testkit::Shared<testkit::ProcessLatch> all_answered(kChildren);
  testkit::Shared<std::atomic<int>> answered_in_time;  // how many had arrived when one gave up
  Bodies children;
  for (int k = 0; k < kChildren; ++k) {
    children.push_back(client_child(*server, k, [&, k](kata::StoreClient& client) {
      (*own_pid)[k] = getpid();
      (*served_by)[k] = client.server_pid();
      // Still connected: nobody goes on before every client has had its first reply.
      if (!all_answered->arrive_and_wait(3s)) {
        int none = 0;
        answered_in_time->compare_exchange_strong(none, all_answered->arrived());
        return kStartLineBroken;
      }
      client.add("after", 1);
      return 0;
    }));
  }
  const auto statuses = server.run_clients(children, "8 clients asking for the server's pid");
  ASSERT_FALSE(all_answered->broken())
      << "only " << answered_in_time->load()
      << " of 8 clients had their first reply while all 8 were connected: does the server serve "
         "one client until it leaves before it reads from the next?";
  const std::string children_failed = not_all_exited_with_0(statuses);
  ASSERT_TRUE(children_failed.empty()) << children_failed;
  for (int k = 0; k < kChildren; ++k) {
    const pid_t seen = (*served_by)[k];
    ASSERT_NE(seen, (*own_pid)[k])
        << "client child " << k << " (pid " << seen << ") was served by itself: does every "
        << "client keep its own copy of the store instead of asking one server process?";
    ASSERT_NE(seen, getpid())
        << "client child " << k << " was served by the test process " << seen
        << " that made the server: does the server's loop run in the process that constructed it?";
  }
  const std::string no_server = server.not_a_process_of_its_own();
  ASSERT_TRUE(no_server.empty()) << no_server;
  const pid_t expected = server->pid();
  for (int k = 0; k < kChildren; ++k) {
    const pid_t seen = (*served_by)[k];
    EXPECT_EQ(seen, expected) << "client child " << k << " was served by process " << seen
                              << ", but StoreServer::pid() is " << expected
                              << ": is there more than one server process?";
  }
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, KeysAndValuesArriveIntact) {
  // Keys from empty to 1 MiB (far more than a socket's buffer, so a frame crosses in many
  // pieces), some with zero bytes inside; values at the ends of long's range.
  std::vector<std::pair<std::string, long>> entries = {
      {"", 1}, {"a", -1}, {"b", 0}, {std::string("x\0y", 3), LONG_MAX}, {"x", LONG_MIN}};
  for (std::size_t size : {100u, 70000u, 1u << 20}) {
    std::string key(size, '\0');
    for (std::size_t i = 0; i < size; ++i) key[i] = static_cast<char>('a' + i * 7 % 26);
    entries.emplace_back(key, static_cast<long>(size) * 3);
  }
  Server server(2);
  kata::StoreClient mine = server->client(1);
  const auto statuses =
      server.run_clients({client_child(*server, 0,
                                       [&](kata::StoreClient& client) {
                                         for (const auto& [key, value] : entries) {
                                           client.set(key, value);
                                         }
                                         return 0;
                                       })},
                         "a child storing keys of 0 bytes to 1 MiB");
  const std::string children_failed = not_all_exited_with_0(statuses);
  ASSERT_TRUE(children_failed.empty()) << children_failed;
  for (const auto& entry : entries) {
    const auto& [key, value] = entry;
    const std::optional<long> got = server.in_time("get()", [&] { return mine.get(entry.first); });
    EXPECT_EQ(got, std::optional<long>(value))
        << "a child set a key of " << key.size() << " bytes to " << value << "; the test's "
        << "client gets " << (got ? std::to_string(*got) : "nothing (std::nullopt)")
        << (got ? ": did the key or the value change on the way?"
                : ": did the child store it in its own copy of the store, or did the key change "
                  "on the way (a zero byte inside it, or a long key cut short)?");
    if (got != std::optional<long>(value)) break;  // one such message says enough
  }
  const std::optional<long> missing =
      server.in_time("get() of a missing key", [&] { return mine.get(std::string("x\0z", 3)); });
  EXPECT_EQ(missing, std::nullopt)
      << "get() of a key that was never stored (but shares its first byte, before a zero byte, "
         "with a stored one) gives "
      << missing.value_or(0) << ": is the key cut at its first zero byte?";
  mine.close();
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, TheServerStopsWhenTheLastClientLeaves) {
  const int descriptors_before = testkit::open_descriptor_count();
  {
    Server server(3);
    kata::StoreClient first = server->client(0);
    kata::StoreClient second = server->client(1);
    kata::StoreClient third = server->client(2);
    server.in_time("add() on three clients", [&] {
      first.add("k", 1);
      second.add("k", 1);
      third.add("k", 1);
    });
    first.close();
    second.close();
    const std::optional<long> after_two_left =
        server.unless_broken("add() after 2 of 3 clients left", [&] { return third.add("k", 1); });
    ASSERT_EQ(after_two_left, std::optional<long>(4))
        << "after 2 of its 3 clients had left, the server " << server.state()
        << " and the third client's add() did not return 4: does the server stop when one "
           "client leaves, instead of when the last one has?";
    third.close();
    const std::string not_stopped = server.not_stopped_by_itself();
    EXPECT_TRUE(not_stopped.empty()) << not_stopped;
  }
  const int extra = testkit::open_descriptor_count() - descriptors_before;
  EXPECT_EQ(extra, 0) << "after the server had stopped and was destroyed, the test process held "
                      << extra
                      << " more file descriptors than before it was made: are both "
                         "ends of every socketpair closed in this process?";
}

TEST_F(ServerProcess, AClientThatDiesHalfWayThroughARequestCostsOnlyItsConnection) {
  Server server(2);
  const std::string no_server = server.not_a_process_of_its_own();
  ASSERT_TRUE(no_server.empty()) << no_server;
  kata::StoreClient mine = server->client(1);
  server.in_time("set()", [&] { mine.set("k", 1); });
  const auto statuses = server.run_clients(
      {client_child(*server, 0,
                    [](kata::StoreClient& client) {
                      // A frame header that promises 64 bytes, then 5 of them, then the
                      // client dies.
                      const std::uint64_t length = 64;
                      std::string half(reinterpret_cast<const char*>(&length), sizeof length);
                      half += "half-";
                      wire::write_all(client.fd(), half.data(), half.size());
                      return 0;
                    })},
      "a child writing half a request");
  const std::string children_failed = not_all_exited_with_0(statuses);
  ASSERT_TRUE(children_failed.empty()) << children_failed;
  server->close_clients();  // now no process holds the dead client's end
  const std::optional<long> value =
      server.unless_broken("add() after another client died", [&] { return mine.add("k", 1); });
  ASSERT_EQ(value, std::optional<long>(2))
      << "a client died half-way through writing a request; then the server " << server.state()
      << " and another client's add() did not return 2: what happens in the server when the "
         "stream ends inside a frame (wire::WireError)?";
  mine.close();
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, AClientThatLeavesBeforeItsReplyCostsOnlyItsConnection) {
  Server server(2);
  const std::string no_server = server.not_a_process_of_its_own();
  ASSERT_TRUE(no_server.empty()) << no_server;
  kata::StoreClient mine = server->client(1);
  server.in_time("set()", [&] { mine.set("k", 1); });
  const auto statuses =
      server.run_clients({client_child(*server, 0,
                                       [](kata::StoreClient& client) {
                                         // No reply can reach this client any more: the
                                         // server's write of it fails (EPIPE).
                                         shutdown(client.fd(), SHUT_RD);
                                         client.add("k", 1);
                                         return 1;  // add() returned without a reply
                                       })},
                         "a child that stops reading before its reply");
  ASSERT_EQ(statuses.size(), 1u);
  const std::optional<long> value =
      server.unless_broken("add() after another client left", [&] { return mine.add("k", 0); });
  ASSERT_TRUE(value.has_value())
      << "a client stopped reading before the server's reply to it; then the server "
      << server.state()
      << " and another client's add() failed: what happens in the server when writing a "
         "reply fails?";
  EXPECT_TRUE(statuses[0].exited && statuses[0].exit_code == kCallThrewStoreError)
      << "a client whose connection could deliver no reply " << child_outcome(statuses[0])
      << " (1: its add() returned as if it had a reply): should a call that gets no reply end "
         "with a kata::StoreError?";
  mine.close();
  const std::string not_stopped = server.not_stopped_by_itself();
  EXPECT_TRUE(not_stopped.empty()) << not_stopped;
}

TEST_F(ServerProcess, AClientOfAServerThatIsGoneGetsAStoreError) {
  Server server(1);
  kata::StoreClient client = server->client(0);
  server.in_time("set()", [&] { client.set("k", 1); });
  const std::string no_server = server.not_a_process_of_its_own();
  ASSERT_TRUE(no_server.empty()) << no_server;
  kill(server->pid(), SIGKILL);
  ASSERT_TRUE(testkit::eventually([&] { return server.ended(); }, 4s))
      << "the server process did not end within 4 s of SIGKILL";
  std::exception_ptr error;
  try {
    server.in_time("get() on a client whose server was killed", [&] { return client.get("k"); });
  } catch (...) {
    error = std::current_exception();
  }
  client.close();
  const kata::ServerExit exit =
      server.in_time("StoreServer::wait()", [&] { return server->wait(); });
  EXPECT_TRUE(!exit.exited && exit.signal == SIGKILL)
      << "the test killed the server with SIGKILL, but wait() says it " << testkit::describe(exit);
  bool store_error = false;
  try {
    if (error) std::rethrow_exception(error);
  } catch (const kata::StoreError&) {
    store_error = true;
  } catch (...) {
  }
  EXPECT_TRUE(store_error) << "get() on a client whose server process had been killed "
                           << (error ? "threw " + testkit::describe_exception(error)
                                     : std::string("returned normally"))
                           << ": should it not end with a kata::StoreError?";
}

}  // namespace
