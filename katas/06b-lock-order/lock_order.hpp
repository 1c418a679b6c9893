// Kata 06b · Move money between two accounts without a deadlock
// Lesson: lessons/06-shared-state/README.md#two-locks-at-once
//
// Each Account has its own mutex, and transfer() holds both accounts' mutexes while it moves
// the money, so that nobody ever sees it in neither account or in both. As written, it locks
// `from` first and `to` second. When one thread transfers from A to B while another transfers
// from B to A, each can take its first lock and then wait for the other's, forever. Make any
// mix of transfers, from any threads, finish; a transfer from an account to itself too.
//
// Grade it: make test KATA=06b        Stuck? make hint KATA=06b
#pragma once

#include <mutex>

namespace kata {

struct Account {
  explicit Account(long opening_balance) : balance(opening_balance) {}
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;

  std::mutex mutex;  // guards balance
  long balance;
};

// The balance now.
inline long balance_of(Account& account) {
  std::scoped_lock lock(account.mutex);
  return account.balance;
}

// Moves `amount` (0 or more) from `from` to `to` and returns true. If `from` holds less than
// `amount`, moves nothing and returns false.
inline bool transfer(Account& from, Account& to, long amount) {
  // TODO: the locks are taken in the order of the arguments, and transfer(b, a) takes them the
  // other way round. (And when from and to are the same account, this locks its mutex twice.)
  std::lock_guard first(from.mutex);
  std::lock_guard second(to.mutex);
  if (from.balance < amount) return false;
  from.balance -= amount;
  to.balance += amount;
  return true;
}

}  // namespace kata
