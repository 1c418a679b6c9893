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

namespace testkit {

// `interceptor`: the address of ThreadSanitizer's __interceptor_<name>, declared weak by the
// caller (null when the program has no such function).
template <typename Fn>
Fn next_definition(Fn interceptor, const char* name) {
  if (interceptor != nullptr) return interceptor;
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace testkit
