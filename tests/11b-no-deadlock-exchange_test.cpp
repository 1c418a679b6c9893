// Tests for kata 11b: pass_right() moves every rank's message one step round the ring (rank r to
// rank r + 1) for messages of any size, from empty to far above the eager limit, without a
// deadlock.
//
// Every rank runs every test (under mpirun, testkit/mpi_main.cpp). Each message says who sent it
// and in which round (its bytes are made from both), so a rank can check that what it got is
// exactly its left neighbour's. Open MPI's shared-memory transport sends up to about 4 KB
// eagerly (measured in lessons/11-beyond-one-machine/README.md); 1 MiB is 256 times that, so a
// rendezvous send is certain whatever the transport's settings. The kata runs on 3 ranks
// (curriculum.json): on 2, a rank's left and right neighbours are the same rank, and a send to
// the wrong side would go unnoticed.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "ring_exchange.hpp"
#include "testkit/deadline.hpp"
#include "testkit/mpi.hpp"

namespace {

using namespace std::chrono_literals;

class RingExchange : public testkit::MpiTest {
 protected:
  int left() const { return (rank + size - 1) % size; }
  int right() const { return (rank + 1) % size; }
};

constexpr std::size_t kLarge = 1 << 20;

const std::string kHangHint =
    "Every rank may be waiting inside MPI_Send. A message up to MPI's eager limit (about 4 KB "
    "over shared memory here) is copied out and the send returns at once; a larger one goes by "
    "rendezvous: the send waits until the receiver has started the matching receive. If every "
    "rank sends before it receives, who is receiving?";

// The message `sender` sends in `round`: `bytes` bytes that name both.
std::vector<char> message(int sender, int round, std::size_t bytes) {
  std::vector<char> data(bytes);
  for (std::size_t i = 0; i < bytes; ++i)
    data[i] = static_cast<char>((static_cast<std::size_t>(sender) * 31 + round * 7 + i) % 251);
  return data;
}

// Why `got` is not `want` (what `left` sent), in words; `right` sent `right_sent`.
std::string mismatch(const std::vector<char>& got, const std::vector<char>& want, int left,
                     const std::vector<char>& right_sent, int right) {
  if (got == right_sent)
    return "got what rank " + std::to_string(right) + " sent, not rank " + std::to_string(left) +
           ": are left and right swapped? Rank r sends to rank r + 1 and receives from rank r - 1";
  if (got.size() != want.size())
    return "got " + std::to_string(got.size()) + " bytes; rank " + std::to_string(left) + " sent " +
           std::to_string(want.size()) + ": is the receive sized by what arrived?";
  return "got the right size but other bytes than rank " + std::to_string(left) +
         " sent: a message from another rank or round, or a buffer reused before its send was "
         "complete?";
}

std::vector<char> exchange(const std::vector<char>& outgoing, MPI_Comm comm,
                           const std::string& what) {
  return testkit::finishes_within(
      4s, what, [&] { return kata::pass_right(outgoing, comm); }, kHangHint);
}

TEST_F(RingExchange, SmallMessagesGoRoundTheRing) {
  const auto got = exchange(message(rank, 0, 100), comm, "pass_right() of 100 bytes");
  const auto want = message(left(), 0, 100);
  EXPECT_TRUE(got == want) << mismatch(got, want, left(), message(right(), 0, 100), right());
}

TEST_F(RingExchange, LargeMessagesGoRoundTheRing) {
  const auto got = exchange(message(rank, 0, kLarge), comm, "pass_right() of 1 MiB");
  const auto want = message(left(), 0, kLarge);
  EXPECT_TRUE(got == want) << mismatch(got, want, left(), message(right(), 0, kLarge), right());
}

TEST_F(RingExchange, EachRankMaySendAnotherSize) {
  const std::size_t mine = kLarge / 2 + 1000 * static_cast<std::size_t>(rank);
  const std::size_t theirs = kLarge / 2 + 1000 * static_cast<std::size_t>(left());
  const std::size_t rights = kLarge / 2 + 1000 * static_cast<std::size_t>(right());
  const auto got = exchange(message(rank, 0, mine), comm,
                            "pass_right() of about 512 KiB, another size on each rank");
  const auto want = message(left(), 0, theirs);
  EXPECT_TRUE(got == want) << mismatch(got, want, left(), message(right(), 0, rights), right());
}

TEST_F(RingExchange, EmptyMessagesArriveEmpty) {
  const auto got = exchange({}, comm, "pass_right() of an empty message");
  EXPECT_TRUE(got.empty()) << "got " << got.size() << " bytes; rank " << left()
                           << " sent an empty message";
}

TEST_F(RingExchange, RoundAfterRoundEachMessageArrivesInOrder) {
  int wrong = 0;
  std::string first_wrong;
  for (int round = 0; round < 8; ++round) {
    const std::size_t bytes = round % 2 == 0 ? 64 : kLarge / 4;
    const auto got = exchange(message(rank, round, bytes), comm,
                              "pass_right() in round " + std::to_string(round) + " of 8");
    const auto want = message(left(), round, bytes);
    if (got != want && wrong++ == 0)
      first_wrong = "round " + std::to_string(round) + ": " +
                    mismatch(got, want, left(), message(right(), round, bytes), right());
  }
  EXPECT_EQ(wrong, 0) << wrong << " of 8 rounds went wrong, the first: " << first_wrong;
}

}  // namespace
