// The distance, in bytes, that keeps two pieces of data written by different threads out of one
// cache line (see "False sharing" in lessons/06-shared-state/README.md). Nothing here is for you
// to edit.
//
// C++17 names it std::hardware_destructive_interference_size (in <new>), but it cannot simply
// be used here: clang 14 with libstdc++ 12 does not provide it at all, and g++ 12 warns
// (-Winterference-size) about every use in a header, because the value may differ between
// compilers and -mtune settings, and a struct aligned to it would then have a different layout
// in two files built with different flags. GCC's advice is a constant of our own; where the
// library has the standard value, the static_assert below checks that ours is not smaller.
// 64 bytes is the cache line of x86-64 and most ARM cores. (Intel cores also fetch lines in
// pairs, so some libraries use 128 there; see the lesson.)
#pragma once

#include <cstddef>
#include <new>

namespace support {

inline constexpr std::size_t kCacheLineSize = 64;

#ifdef __cpp_lib_hardware_interference_size
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winterference-size"  // a check, not a layout: no ABI at stake
#endif
static_assert(kCacheLineSize >= std::hardware_destructive_interference_size,
              "kCacheLineSize is smaller than this compiler's destructive interference size");
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

}  // namespace support
