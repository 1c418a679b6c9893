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
  // One thread walks the list; each node becomes a task that any thread of the team may run.
  // The team waits for all the tasks at the end of single (its barrier) and of the region.
#pragma omp single
  for (Node* node = head; node != nullptr; node = node->next) {
    // node is private to the walking thread, so the task gets a copy of it (firstprivate):
    // the task still points at its own node after the walk has moved on.
#pragma omp task firstprivate(node)
    process(*node);
  }
}

}  // namespace kata
