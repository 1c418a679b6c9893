// Kata 08c · Tasks for a linked list: every node processed once, on whichever thread is free
// Lesson: lessons/08-openmp/README.md#tasks
//
// for_each_node() must call process() once for every node of a linked list, on a team of
// `threads` OpenMP threads. A list is no loop that `omp for` can share out: its length is not
// known before the walk, and some nodes take far longer than others. As written, the parallel
// region runs its block on every thread of the team, so each thread walks the whole list and
// every node is processed once per thread. Let one thread walk the list and hand each node to
// the team as a task of its own.
//
// Grade it: make test KATA=08c        Stuck? make hint KATA=08c
#pragma once

#include <functional>

namespace kata {

struct Node {
  int value = 0;
  Node* next = nullptr;
};

inline void for_each_node(Node* head, const std::function<void(Node&)>& process, int threads) {
#pragma omp parallel num_threads(threads)
  {
    // TODO: every thread of the team runs this block.
    for (Node* node = head; node != nullptr; node = node->next) process(*node);
  }
}

}  // namespace kata
