// Headers precompiled once for the katas that link oneTBB (lesson 07; see cmake/Kata.cmake), on
// top of kata_pch.hpp: oneTBB's headers that the katas and their tests use, the parallel STL
// (which g++'s library runs on oneTBB) and the oneTBB test fixture.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/concurrent_hash_map.h>
#include <oneapi/tbb/concurrent_vector.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <execution>
#include <span>

#include "testkit/onetbb.hpp"
