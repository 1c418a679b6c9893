// Tests for kata 06b: transfer() between accounts that each have a mutex finishes for any mix
// of transfers from any threads (opposite directions, an account to itself), moves exactly the
// money asked for, and never creates or loses any.
//
// The deadlock of two opposite transfers needs each thread to hold its first lock when the
// other asks for it. Left to chance that happens now and then; here it happens on every run.
// This file stands in for pthread_mutex_lock (what std::mutex::lock calls) and keeps, for each
// thread, how many of the accounts' mutexes it holds. A thread that asks for a second account
// lock while it holds one is held at that door until every other transferring thread is at such
// a door too, has finished, or is asleep in the kernel waiting for an account's mutex. Locks
// taken in argument order bring both threads to the door, and both then wait for each other;
// std::scoped_lock (which never waits while it holds a lock) never comes to the door, and locks
// taken in a global order come to it only when the other thread already waits for the first.
// A second door catches a transfer that lets go of one account before it takes the other: a
// thread inside transfer() that locks an account after it has unlocked one is held there until
// an auditor, who locks every account at once, has added up the balances.
#include <pthread.h>
#include <sys/syscall.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "lock_order.hpp"
#include "testkit/deadline.hpp"
#include "testkit/eventually.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/next_definition.hpp"
#include "testkit/thread_probe.hpp"

namespace {

using namespace std::chrono_literals;

// ---- the door in front of a second account lock ---------------------------------------------

constexpr int kMaxParties = 4;

struct Party {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> at_door{false};
  std::atomic<bool> done{false};
};

struct Door {
  std::array<std::atomic<std::uintptr_t>, kMaxParties> accounts{};  // watched mutexes; 0: none
  std::array<Party, kMaxParties> parties;
  std::atomic<int> party_count{0};
  std::atomic<int> holds{0};
};

Door& door() {
  static Door* const the_door = new Door;  // never destroyed: locks happen while exiting
  return *the_door;
}

thread_local int account_locks_held = 0;
thread_local bool in_transfer = false;           // set by the test around transfer()
thread_local bool released_in_transfer = false;  // an account unlocked since then
std::atomic<int> audits{0};                      // sums of all balances made so far
std::atomic<int> half_done_holds{0};

bool is_account(const void* mutex) {
  const auto address = reinterpret_cast<std::uintptr_t>(mutex);
  for (const auto& watched : door().accounts)
    if (address != 0 && watched.load() == address) return true;
  return false;
}

// True once every transferring thread but `self` is at a door, has finished, or is asleep in
// futex on one of the accounts' mutexes (glibc waits for a mutex on its first word).
bool others_settled(pid_t self) {
  Door& d = door();
  for (int i = 0; i < d.party_count.load(); ++i) {
    const Party& other = d.parties[i];
    const pid_t tid = other.tid.load();
    if (tid == 0) return false;  // not started yet
    if (tid == self || other.at_door || other.done) continue;
    const auto call = testkit::blocked_syscall(tid);
    if (!call || call->number != SYS_futex || !is_account(reinterpret_cast<void*>(call->args[0])))
      return false;
  }
  return true;
}

void before_lock(pthread_mutex_t* mutex) {
  if (!is_account(mutex)) return;
  if (in_transfer && released_in_transfer) {
    half_done_holds.fetch_add(1);
    const int seen = audits.load();
    testkit::eventually([&] { return audits.load() > seen; }, 2s);
  }
  if (account_locks_held == 0) return;
  Door& d = door();
  const pid_t self = testkit::this_thread_tid();
  for (int i = 0; i < d.party_count.load(); ++i) {
    Party& party = d.parties[i];
    if (party.tid.load() != self) continue;
    d.holds.fetch_add(1);
    party.at_door = true;
    testkit::eventually([&] { return others_settled(self); }, 2s);
    party.at_door = false;
  }
}

// Watches the mutexes of `accounts` until it is destroyed, for `parties` transferring threads,
// which call enter() first and leave() last.
class DoorWatch {
 public:
  DoorWatch(int parties, std::initializer_list<kata::Account*> accounts) {
    door().party_count = parties;
    int i = 0;
    for (kata::Account* account : accounts)
      door().accounts[i++] = reinterpret_cast<std::uintptr_t>(account->mutex.native_handle());
  }
  ~DoorWatch() {
    Door& d = door();
    for (auto& watched : d.accounts) watched = 0;
    for (Party& party : d.parties) {
      party.tid = 0;
      party.done = false;
      party.at_door = false;
    }
    d.party_count = 0;
    d.holds = 0;
  }
  DoorWatch(const DoorWatch&) = delete;
  DoorWatch& operator=(const DoorWatch&) = delete;

  // Called first by each transferring thread, with its index (0, 1, ...).
  void enter(int index) { door().parties[index].tid = testkit::this_thread_tid(); }
  void leave(int index) { door().parties[index].done = true; }
  int holds() const { return door().holds.load(); }
};

}  // namespace

// ThreadSanitizer's own stand-ins, when the program has them (see next_definition.hpp).
extern "C" int __interceptor_pthread_mutex_lock(pthread_mutex_t*) __attribute__((weak));
extern "C" int __interceptor_pthread_mutex_trylock(pthread_mutex_t*) __attribute__((weak));
extern "C" int __interceptor_pthread_mutex_unlock(pthread_mutex_t*) __attribute__((weak));

extern "C" int pthread_mutex_lock(pthread_mutex_t* mutex) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_mutex_lock, "pthread_mutex_lock");
  before_lock(mutex);
  const int result = next(mutex);
  if (result == 0 && is_account(mutex)) ++account_locks_held;
  return result;
}

extern "C" int pthread_mutex_trylock(pthread_mutex_t* mutex) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_mutex_trylock, "pthread_mutex_trylock");
  const int result = next(mutex);
  if (result == 0 && is_account(mutex)) ++account_locks_held;
  return result;
}

extern "C" int pthread_mutex_unlock(pthread_mutex_t* mutex) {
  static const auto next =
      testkit::next_definition(&__interceptor_pthread_mutex_unlock, "pthread_mutex_unlock");
  if (account_locks_held > 0 && is_account(mutex)) {
    --account_locks_held;
    released_in_transfer = in_transfer;
  }
  return next(mutex);
}

namespace {

class LockOrder : public testkit::LeakCheckedTest {};

// A thread running `body`: one std::thread constructor for the whole file. Each lambda handed to
// std::thread directly would compile its own copy of it, and the test file's compile time is the
// wait between a save and its verdict.
std::thread start(std::function<void()> body) { return std::thread(std::move(body)); }

// A small pseudo-random sequence (xorshift32), the same on every run for a given seed.
struct Random {
  std::uint32_t state;
  std::uint32_t operator()() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

constexpr const char* kOppositeOrderHint =
    "Two transfers in opposite directions each took their first lock and then waited for the "
    "other's: a deadlock. Does transfer() lock the accounts in the order of its arguments? "
    "Either take both locks in one step (std::scoped_lock with both mutexes), or always in one "
    "order that every thread agrees on (say, the account at the lower address first).";

TEST_F(LockOrder, OppositeTransfersBothFinish) {
  kata::Account a(100), b(100);
  std::array<bool, 2> moved{};
  DoorWatch watch(2, {&a, &b});
  testkit::finishes_within(
      3s, "transfer(a, b, 30) and transfer(b, a, 20) on two threads at once",
      [&] {
        std::thread one = start([&] {
          watch.enter(0);
          moved[0] = kata::transfer(a, b, 30);
          watch.leave(0);
        });
        std::thread two = start([&] {
          watch.enter(1);
          moved[1] = kata::transfer(b, a, 20);
          watch.leave(1);
        });
        one.join();
        two.join();
      },
      kOppositeOrderHint);
  EXPECT_TRUE(moved[0] && moved[1]) << "both accounts held 100, yet transfer(a, b, 30) returned "
                                    << moved[0] << " and transfer(b, a, 20) returned " << moved[1];
  EXPECT_EQ(kata::balance_of(a), 90) << "a held 100, sent 30 and received 20";
  EXPECT_EQ(kata::balance_of(b), 110) << "b held 100, received 30 and sent 20";
}

TEST_F(LockOrder, NoTransferIsEverSeenHalfDone) {
  // An auditor adds up both balances again and again, holding both locks. A transfer that
  // unlocks one account and then locks the other is held in between until the auditor has
  // looked (see the top of this file): then the money is in neither account.
  kata::Account a(100), b(100);
  DoorWatch watch(0, {&a, &b});
  std::atomic<bool> transferring{true};
  long wrong_total = 200;
  testkit::finishes_within(
      3s, "transfer(a, b, 30) while an auditor adds up both balances",
      [&] {
        std::thread auditor = start([&] {
          while (transferring.load()) {
            {
              std::scoped_lock both(a.mutex, b.mutex);
              if (a.balance + b.balance != 200) wrong_total = a.balance + b.balance;
            }
            audits.fetch_add(1);
            std::this_thread::yield();
          }
        });
        in_transfer = true;
        released_in_transfer = false;
        kata::transfer(a, b, 30);
        in_transfer = false;
        transferring = false;
        auditor.join();
      },
      kOppositeOrderHint);
  EXPECT_EQ(wrong_total, 200)
      << "an auditor holding both accounts' locks found " << wrong_total
      << " in all instead of 200, while transfer(a, b, 30) ran: the money had left one account "
         "and not yet reached the other. Does transfer() let go of one lock before it takes the "
         "other?";
}

TEST_F(LockOrder, ATransferToTheSameAccountChangesNothing) {
  kata::Account a(100);
  bool moved = false;
  testkit::finishes_within(
      2s, "transfer(a, a, 40)", [&] { moved = kata::transfer(a, a, 40); },
      "A transfer from an account to itself names one mutex twice. A std::mutex locked a second "
      "time by the thread that holds it is undefined behaviour (in practice the thread waits for "
      "itself forever), and so is std::scoped_lock(m, m). What should a transfer to the same "
      "account lock?");
  EXPECT_TRUE(moved) << "transfer(a, a, 40) with 100 in a returned false";
  EXPECT_FALSE(kata::transfer(a, a, 400)) << "transfer(a, a, 400) with 100 in a returned true";
  EXPECT_EQ(kata::balance_of(a), 100) << "moving money from a to a should leave a as it was";
}

TEST_F(LockOrder, ATransferLargerThanTheBalanceMovesNothing) {
  kata::Account a(100), b(0);
  EXPECT_FALSE(kata::transfer(a, b, 101)) << "transfer(a, b, 101) with 100 in a returned true";
  EXPECT_EQ(kata::balance_of(a), 100) << "a refused transfer changed the balance of a";
  EXPECT_EQ(kata::balance_of(b), 0) << "a refused transfer changed the balance of b";
  EXPECT_TRUE(kata::transfer(a, b, 100)) << "transfer(a, b, 100) with 100 in a returned false";
  EXPECT_EQ(kata::balance_of(a), 0) << "a sent all of its 100";
  EXPECT_EQ(kata::balance_of(b), 100) << "b received 100";
}

TEST_F(LockOrder, ManyTransfersAmongFourAccountsConserveTheMoney) {
  // 4 threads move random amounts between 4 accounts while a fifth thread, holding all four
  // locks at once, checks again and again that the total is still 4000.
  constexpr int kTransfers = 3000;
  std::array<kata::Account, 4> accounts{kata::Account(1000), kata::Account(1000),
                                        kata::Account(1000), kata::Account(1000)};
  std::atomic<int> running{4};
  long wrong_total = 4000;
  int looks = 0, wrong_audits = 0;
  testkit::finishes_within(
      5s, "4 threads each making 3000 transfers among 4 accounts",
      [&] {
        std::vector<std::thread> threads;
        for (unsigned seed = 1; seed <= 4; ++seed) {
          threads.push_back(start([&, seed] {
            Random random{seed};
            for (int i = 0; i < kTransfers; ++i) {
              kata::transfer(accounts[random() % 4], accounts[random() % 4],
                             static_cast<long>(random() % 300));
            }
            running.fetch_sub(1);
          }));
        }
        threads.push_back(start([&] {
          while (running.load() > 0) {
            std::this_thread::yield();
            std::scoped_lock all(accounts[0].mutex, accounts[1].mutex, accounts[2].mutex,
                                 accounts[3].mutex);
            const long total = accounts[0].balance + accounts[1].balance + accounts[2].balance +
                               accounts[3].balance;
            ++looks;
            if (total != 4000) {
              ++wrong_audits;
              wrong_total = total;
            }
          }
        }));
        for (std::thread& thread : threads) thread.join();
      },
      std::string(kOppositeOrderHint) +
          " And a transfer from an account to itself (some of these are) must not lock its mutex "
          "twice.");
  EXPECT_EQ(wrong_audits, 0) << wrong_audits << " of " << looks
                             << " looks at all four accounts (with all four locks held) found a "
                                "total other than 4000, for example "
                             << wrong_total
                             << ": was money on its way, out of one account but not yet in the "
                                "other? Does transfer() let go of one lock before it takes the "
                                "other?";
  long total = 0;
  for (kata::Account& account : accounts) {
    const long balance = kata::balance_of(account);
    EXPECT_GE(balance, 0) << "an account went below zero: transfer() should refuse to send more "
                             "than the account holds";
    total += balance;
  }
  EXPECT_EQ(total, 4000) << "12000 transfers among 4 accounts of 1000 each should leave 4000 in "
                            "all, not "
                         << total;
}

}  // namespace
