// Tests for kata 08c: for_each_node() calls process() exactly once for every node of a linked
// list, and the team's threads share the nodes out as they come free, so that a slow node holds
// up only the thread that has it.
//
// With a team of two, a region whose every thread walks the whole list processes each node
// twice, on every run. That the nodes are shared out as threads come free is proven by structure:
// processing the first node waits (bounded) until every other node has been processed, which
// only the other thread can do meanwhile. The bound is only a failure bound.
//
// A task that does not keep its own node (`#pragma omp task shared(node)`) reads the walking
// thread's one node variable when it runs: by then the walk may have moved on (a later node is
// processed twice, this one never) or ended (node is nullptr, and process() gets a reference to
// address 0). process() looks at the address of the node it was given before touching it, so
// that such a call is counted and named instead of crashing the test.
//
// for_each_node() runs on the test's own thread, not under testkit::finishes_within (a new thread
// per call): libomp 14 crashes once a few threads that made tasks have ended
// (testkit/openmp_pool.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
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

  // True if `node` is one of this list's nodes. Compares addresses only, so that it is safe to
  // ask about a reference to address 0 (what process(*node) passes when node is nullptr).
  bool holds(const Node& node) const {
    const Node* address = std::addressof(node);
    const std::less<const Node*> before;
    return !nodes_.empty() && !before(address, nodes_.data()) &&
           before(address, nodes_.data() + nodes_.size());
  }

  // Counts a call of process(): for its node, or as a stray if the node is not in the list.
  void saw(const Node& node) {
    if (holds(node)) {
      ++seen_.at(static_cast<std::size_t>(node.value));
    } else {
      ++strays_;
    }
  }

  int seen(std::size_t i) const { return seen_[i].load(); }
  std::size_t size() const { return nodes_.size(); }

  // How many nodes other than the first have been processed at least once.
  std::size_t others_done() const {
    std::size_t done = 0;
    for (std::size_t i = 1; i < seen_.size(); ++i) done += seen_[i].load() > 0 ? 1 : 0;
    return done;
  }

  // Empty if every node was seen exactly once and nothing else was; else how often each was
  // seen, in words.
  std::string problems() const {
    std::vector<int> times;
    bool once = true;
    for (const auto& seen : seen_) {
      times.push_back(seen.load());
      once = once && times.back() == 1;
    }
    if (once && strays_ == 0) return "";
    if (times.size() > 20) times.resize(20);
    std::string text =
        "how often each node was processed, from the head: " + testkit::to_text(times) +
        (seen_.size() > 20 ? " ..." : "");
    if (strays_ > 0) {
      text += ", and " + std::to_string(strays_.load()) +
              " call(s) of process() got a node that is not in the list (a reference to address "
              "0: node was nullptr)";
    }
    return text;
  }

  // The likely cause of what problems() describes, as a question.
  std::string cause(int threads) const {
    bool every_thread = true;
    for (const auto& seen : seen_) every_thread = every_thread && seen.load() == threads;
    if (every_thread && strays_ == 0) return "Does every thread of the team walk the whole list?";
    return "Does each task read the walking thread's one node variable when it runs "
           "(shared(node)), by which time the walk has moved on or ended, instead of keeping the "
           "node it was made for? Or does more than one thread walk the list?";
  }

 private:
  std::vector<Node> nodes_;
  std::vector<std::atomic<int>> seen_;
  std::atomic<int> strays_{0};
};

void run(List& list, const std::function<void(Node&)>& process) {
  kata::for_each_node(list.head(), process, 2);
}

TEST_F(Tasks, EveryNodeIsProcessedExactlyOnce) {
  List list(12);
  run(list, [&](Node& node) { list.saw(node); });
  EXPECT_EQ(list.problems(), "")
      << "with a team of 2 threads every node must be processed exactly once, but "
      << list.problems() << ". " << list.cause(2);
}

TEST_F(Tasks, ASlowNodeHoldsUpOnlyTheThreadThatHasIt) {
  List list(12);
  std::atomic<bool> gave_up{false};
  std::atomic<std::size_t> done_meanwhile{0};
  run(list, [&](Node& node) {
    if (list.holds(node) && node.value == 0 && !gave_up) {
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
                                 << " nodes must be processed exactly once, but " << list.problems()
                                 << ". " << list.cause(2);
}

TEST_F(Tasks, AnEmptyListProcessesNothing) {
  List list(0);
  std::atomic<int> calls{0};
  run(list, [&](Node&) { ++calls; });
  EXPECT_EQ(calls.load(), 0) << "the list is empty (head is nullptr), yet process() was called";
}

}  // namespace
