// How a testkit stand-in for a C library function (pthread_create in thread_starts.hpp, the
// pthread_cond waits in cond_wait_spy.hpp) finds the definition it forwards to.
//
// Why: a test program's own definition of a C library function takes the place of the
// library's, and must then call the real one. Usually that is the next definition in the
// search order, dlsym(RTLD_NEXT, name): the C library's, or, when ThreadSanitizer's runtime is
// a shared library (g++), ThreadSanitizer's. But clang links ThreadSanitizer's runtime into the
// program itself, where its interceptor (__interceptor_<name>) is reached through a weak alias
// <name> that the stand-in replaces; RTLD_NEXT would then skip ThreadSanitizer, which must see
// every thread start and every wait. So the interceptor is called directly when there is one.
#pragma once

#include <dlfcn.h>

// 1 where a file defines its stand-ins: everywhere except shard 1 of a kata test. The learner's
// test program is built from two compiles of the test file (testkit/shard.hpp), and a program may
// define each stand-in only once. The state a stand-in shares with the tests must then be one for
// the program too: in a named namespace with inline definitions, never an anonymous one.
#if !defined(KATA_SHARD) || KATA_SHARD == 0
#define TESTKIT_DEFINE_STAND_INS 1
#else
#define TESTKIT_DEFINE_STAND_INS 0
#endif

namespace testkit {

// `interceptor`: the address of ThreadSanitizer's __interceptor_<name>, declared weak by the
// caller (null when the program has no such function).
template <typename Fn>
Fn next_definition(Fn interceptor, const char* name) {
  if (interceptor != nullptr) return interceptor;
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace testkit
