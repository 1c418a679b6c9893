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
  if (&from == &to) {
    // One mutex: locking it twice from one thread is undefined behaviour (in practice the
    // thread waits for itself), and std::scoped_lock(m, m) does exactly that. Moving money to
    // where it already is changes nothing; only the answer needs the balance.
    std::scoped_lock lock(from.mutex);
    return from.balance >= amount;
  }
  // std::scoped_lock with two mutexes locks both with the std::lock algorithm: it blocks only
  // on the first, tries the other, and when that one is taken it lets go of the first and
  // starts again from the one it could not get. It never waits while holding a lock, so two
  // transfers in opposite directions cannot wait for each other. (Locking in one global order,
  // say the lower address first, also works: then both wait for the same first lock.)
  std::scoped_lock both(from.mutex, to.mutex);
  if (from.balance < amount) return false;
  from.balance -= amount;
  to.balance += amount;
  return true;
}

}  // namespace kata
