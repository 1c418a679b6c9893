// Tests for kata 11c: sum_on_root() returns on the root the sum of every rank's share, and
// sum_everywhere() returns it on every rank, equal to the sequential sum exactly.
//
// Every rank runs every test (under mpirun, testkit/mpi_main.cpp) with its own share, made from
// its rank number; each rank can therefore compute the sequential sum of all shares itself and
// compare. The large test's total is above 2^53, where a double no longer holds every integer.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <climits>
#include <numeric>
#include <string>
#include <vector>

#include "reduce.hpp"
#include "testkit/deadline.hpp"
#include "testkit/mpi.hpp"

namespace {

using namespace std::chrono_literals;

const std::string kHangHint =
    "a rank waits in a collective that another rank never calls: does every rank call the same "
    "collective, with the same root, and the same count and type?";

using Share = std::vector<int>;
using ShareOf = Share (*)(int rank);

Share small_share(int rank) {
  Share share(10);
  std::iota(share.begin(), share.end(), 100 * rank + 1);
  return share;
}

// 2.5 million numbers near INT_MAX per rank: with 3 ranks the total is about 1.6e16 > 2^53
// (with 2, 1.07e16), and odd on any number of ranks (rank 0's sum is odd, every other rank's
// even): a double, whose steps are 2 there, cannot hold it.
Share large_share(int rank) {
  if (rank == 0) return Share(2'500'001, INT_MAX);
  return Share(2'500'000, INT_MAX - rank);
}

// Rank 0 holds nothing; the others hold negative and positive numbers.
Share mixed_share(int rank) {
  if (rank == 0) return {};
  return {-INT_MAX, 5 * rank, INT_MAX, -3, INT_MIN, rank};
}

long long sequential_sum(ShareOf share_of, int ranks) {
  long long total = 0;
  for (int r = 0; r < ranks; ++r)
    for (int x : share_of(r)) total += x;
  return total;
}

long long own_sum(const Share& share) { return std::accumulate(share.begin(), share.end(), 0LL); }

// "got 105; the sequential sum ..." with a question that fits what came back. (The grader says
// which rank: "rank 0 of 3: ...".)
std::string wrong_sum(long long got, long long want, const Share& share) {
  std::string text = "got " + std::to_string(got) +
                     "; the sequential sum of every rank's numbers is " + std::to_string(want);
  if (got == own_sum(share))
    return text +
           ". That is this rank's own share alone: are the other ranks' partial sums "
           "combined (a reduction)?";
  if (got == 0)
    return text +
           ". Nothing arrived on this rank: MPI_Reduce leaves the total on its root alone. Does "
           "every rank need it here (MPI_Allreduce), or is the root the rank that was asked "
           "for?";
  return text +
         ". Did a partial sum or the total pass through an int or a double (or MPI_INT, "
         "MPI_DOUBLE), where it overflows or is rounded?";
}

class Reduce : public testkit::MpiTest {
 protected:
  // sum_on_root() of every rank's share_of(rank), checked on `root` against the sequential sum.
  void check_sum_on_root(ShareOf share_of, int root, const std::string& what,
                         const std::string& note = "") {
    const Share share = share_of(rank);
    const long long got = testkit::finishes_within(
        5s, what, [&] { return kata::sum_on_root(share, root, comm); }, kHangHint);
    const long long want = sequential_sum(share_of, size);
    if (rank == root) EXPECT_EQ(got, want) << wrong_sum(got, want, share) << note;
  }

  // sum_everywhere() of every rank's share_of(rank), checked on every rank.
  void check_sum_everywhere(ShareOf share_of, const std::string& what) {
    const Share share = share_of(rank);
    const long long got = testkit::finishes_within(
        5s, what, [&] { return kata::sum_everywhere(share, comm); }, kHangHint);
    const long long want = sequential_sum(share_of, size);
    EXPECT_EQ(got, want) << wrong_sum(got, want, share)
                         << (rank != 0 ? " (every rank needs the total here, not only rank 0)"
                                       : "");
  }
};

TEST_F(Reduce, RootGetsTheSumOfEveryRanksShare) {
  check_sum_on_root(small_share, 0, "sum_on_root() with root 0");
}

TEST_F(Reduce, AnyRankCanBeTheRoot) {
  check_sum_on_root(small_share, size - 1, "sum_on_root() with the last rank as root",
                    " (the root here is the last rank, not rank 0)");
}

TEST_F(Reduce, SumIsExactBeyondTwoToThe53) {
  check_sum_on_root(large_share, 0, "sum_on_root() of 2.5 million numbers a rank");
}

TEST_F(Reduce, NegativeNumbersAndAnEmptyShareAddUp) {
  check_sum_on_root(mixed_share, 0, "sum_on_root() where rank 0 holds no numbers");
}

TEST_F(Reduce, EveryRankGetsTheSum) { check_sum_everywhere(small_share, "sum_everywhere()"); }

TEST_F(Reduce, EveryRankGetsTheExactSumOfLargeNumbers) {
  check_sum_everywhere(large_share, "sum_everywhere() of 2.5 million numbers a rank");
}

}  // namespace
