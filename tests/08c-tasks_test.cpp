// Tests for kata 08c: for_each_node() calls process() exactly once for every node of a linked
// list, and the team's threads share the nodes out as they come free, so that a slow node holds
// up only the thread that has it.
//
// With a team of two, a region whose every thread walks the whole list processes each node
// twice, on every run. That the nodes are shared out as threads come free is proven by structure:
// processing the first node waits (bounded) until every other node has been processed, which
// only the other thread can do meanwhile. The bound is only a failure bound.
//
// for_each_node() runs on the test's own thread, not under testkit::finishes_within (a new thread
// per call): libomp 14 crashes once a few threads that made tasks have ended
// (testkit/openmp_pool.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "list_tasks.hpp"
#include "testkit/eventually.hpp"
#include "testkit/openmp_pool.hpp"
#include "testkit/text.hpp"

namespace {

using namespace std::chrono_literals;
using kata::Node;

class Tasks : public testkit::OpenMpLeakCheckedTest {};

// A list of n nodes with the values 0 .. n-1, and how often process() has seen each of them.
class List {
 public:
  explicit List(std::size_t n) : nodes_(n), seen_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      nodes_[i].value = static_cast<int>(i);
      nodes_[i].next = i + 1 < n ? &nodes_[i + 1] : nullptr;
    }
  }

  Node* head() { return nodes_.empty() ? nullptr : &nodes_.front(); }
  void saw(const Node& node) { ++seen_.at(static_cast<std::size_t>(node.value)); }
  int seen(std::size_t i) const { return seen_[i].load(); }
  std::size_t size() const { return nodes_.size(); }

  // How many nodes other than the first have been processed at least once.
  std::size_t others_done() const {
    std::size_t done = 0;
    for (std::size_t i = 1; i < seen_.size(); ++i) done += seen_[i].load() > 0 ? 1 : 0;
    return done;
  }

  // Empty if every node was seen exactly once; else how often each was seen, in words.
  std::string problems() const {
    std::vector<int> times;
    bool once = true;
    for (const auto& seen : seen_) {
      times.push_back(seen.load());
      once = once && times.back() == 1;
    }
    if (once) return "";
    if (times.size() > 20) times.resize(20);
    return "how often each node was processed, from the head: " + testkit::to_text(times) +
           (seen_.size() > 20 ? " ..." : "");
  }

 private:
  std::vector<Node> nodes_;
  std::vector<std::atomic<int>> seen_;
};

void run(List& list, const std::function<void(Node&)>& process) {
  kata::for_each_node(list.head(), process, 2);
}

TEST_F(Tasks, EveryNodeIsProcessedExactlyOnce) {
  List list(12);
  run(list, [&](Node& node) { list.saw(node); });
  EXPECT_EQ(list.problems(), "")
      << "with a team of 2 threads every node must be processed exactly once, but "
      << list.problems() << ". Does every thread of the team walk the whole list?";
}

TEST_F(Tasks, ASlowNodeHoldsUpOnlyTheThreadThatHasIt) {
  List list(12);
  std::atomic<bool> gave_up{false};
  std::atomic<std::size_t> done_meanwhile{0};
  run(list, [&](Node& node) {
    if (node.value == 0 && !gave_up) {
      // The first node is slow: it is done only when all the others are.
      if (!testkit::eventually([&] { return list.others_done() == list.size() - 1; }, 2s)) {
        done_meanwhile = list.others_done();
        gave_up = true;
      }
    }
    list.saw(node);
  });
  EXPECT_FALSE(gave_up)
      << "processing the first node waited 2 s for the other " << list.size() - 1
      << " nodes, and only " << done_meanwhile.load()
      << " of them were processed meanwhile: while one thread is busy with a slow node, the "
         "others must go on with the nodes that follow. Does one thread hand the nodes out as "
         "they come (a task per node), or does each thread have a fixed share, or all of them?";
}

TEST_F(Tasks, ALongListIsProcessedExactlyOnceToo) {
  List list(3000);
  run(list, [&](Node& node) { list.saw(node); });
  EXPECT_EQ(list.problems(), "") << "every one of " << list.size()
                                 << " nodes must be processed exactly once, but "
                                 << list.problems();
}

TEST_F(Tasks, AnEmptyListProcessesNothing) {
  List list(0);
  std::atomic<int> calls{0};
  run(list, [&](Node&) { ++calls; });
  EXPECT_EQ(calls.load(), 0) << "the list is empty (head is nullptr), yet process() was called";
}

}  // namespace
