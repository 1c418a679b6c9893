// Tests for kata 11a: map_over_ranks() returns on the root f of every input in input order, and
// every rank computes an even share of the items.
//
// Every rank runs every test (under mpirun, testkit/mpi_main.cpp). f counts its calls on each
// rank; after the map the test gathers the counts (MPI_Allgather on the test's side), so every
// rank knows who computed how many. Only the root is given the inputs. The kata runs on 3 ranks
// (curriculum.json): on 2, n % size is never more than 1, and a remainder dealt out wrongly
// (all of it to the last rank: 11 items as 3, 3, 5) would still look even.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "map_over_ranks.hpp"
#include "testkit/deadline.hpp"
#include "testkit/mpi.hpp"
#include "testkit/text.hpp"

namespace {

using namespace std::chrono_literals;

long long calls_here = 0;  // calls of f on this rank (one process per rank)

long long square_plus_one(long long x) {
  ++calls_here;
  return x * x + 1;
}

class ScatterGatherMap : public testkit::MpiTest {
 protected:
  // Maps `items` inputs (items, items - 1, ..., 1: order matters) from `root`; checks the
  // results there, and that this rank computed an even share of the items.
  void check_map(int items, int root) {
    std::vector<long long> inputs;
    if (rank == root)
      for (int i = items; i > 0; --i) inputs.push_back(i);
    calls_here = 0;
    const std::vector<long long> got = testkit::finishes_within(
        5s, "map_over_ranks() of " + std::to_string(items) + " items",
        [&] { return kata::map_over_ranks(inputs, square_plus_one, root, comm); },
        "a rank waits in a collective that another rank never calls: does every rank (the root "
        "too, and a rank with no items) call the same collectives in the same order, with the "
        "same root?");
    if (rank == root) {
      std::vector<long long> want;
      for (int i = items; i > 0; --i) want.push_back(static_cast<long long>(i) * i + 1);
      EXPECT_EQ(got, want) << "the root got " << summary(got) << " for the inputs "
                           << summary(inputs)
                           << ": f(x) = x*x + 1, in input order. Are the chunks put back each "
                              "at its own offset?";
    } else {
      EXPECT_TRUE(got.empty()) << "a rank that is not the root returned " << got.size()
                               << " results; only the root's are used";
    }
    std::vector<long long> computed(static_cast<std::size_t>(size));
    MPI_Allgather(&calls_here, 1, MPI_LONG_LONG, computed.data(), 1, MPI_LONG_LONG, comm);
    expect_even_share(computed, items);
  }

  static std::string summary(const std::vector<long long>& values) {
    if (values.size() <= 8) return testkit::to_text(values);
    return testkit::to_text(std::span(values).first(4)) + " ... (" + std::to_string(values.size()) +
           " values)";
  }

  // This rank computed floor(items / size) items, or one more. (The grader names the rank.)
  void expect_even_share(const std::vector<long long>& computed, int items) {
    const long long least = items / size;
    const long long most = least + (items % size == 0 ? 0 : 1);
    const long long mine = computed[static_cast<std::size_t>(rank)];
    const bool idle_rank = items >= size && std::count(computed.begin(), computed.end(), 0) > 0;
    EXPECT_TRUE(mine >= least && mine <= most)
        << "computed " << mine << " of the " << items
        << " items (each rank's count: " << testkit::to_text(computed) << "; an even share is "
        << least << (most != least ? " or " + std::to_string(most) : "") << ")"
        << (idle_rank ? ": does the root compute every item itself?"
                      : ": are the items split evenly, the first ranks taking the remainder?");
  }
};

TEST_F(ScatterGatherMap, EveryRankComputesAnEvenShare) { check_map(100, 0); }

TEST_F(ScatterGatherMap, ResultsComeBackInInputOrder) { check_map(1000, 0); }

TEST_F(ScatterGatherMap, ItemsThatDoNotDivideEvenly) { check_map(7, 0); }

TEST_F(ScatterGatherMap, FewerItemsThanRanks) { check_map(1, 0); }

TEST_F(ScatterGatherMap, NoItemsGiveNoResults) { check_map(0, 0); }

TEST_F(ScatterGatherMap, AnyRankCanBeTheRoot) { check_map(11, size - 1); }

}  // namespace
