// Headers precompiled once and reused by every kata test (see cmake/Kata.cmake).
// Only stable, heavy headers belong here: GoogleTest, the standard headers the katas use, and
// the test helpers. A kata's own headers never do (the learner edits them), nor support/ (03a's
// learner writes the pool that support/thread_pool.hpp gives later katas), nor a testkit header
// that interposes a C function (cond_wait_spy.hpp, thread_starts.hpp): here it would be in every
// kata's binary. Each header parsed here is time a save no longer waits for: <random> alone was
// ~0.5 s of 04c's and 05a's compile, thread_probe.hpp ~0.1 s of eleven katas' (clang -ftime-trace).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <climits>
#include <concepts>
#include <condition_variable>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "testkit/children.hpp"
#include "testkit/cores.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "testkit/under_test.hpp"
