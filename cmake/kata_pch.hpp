// Headers precompiled once and reused by every kata test (see cmake/Kata.cmake).
// Only stable, heavy headers belong here: GoogleTest, the standard headers the katas use, and
// the test helpers. A kata's own headers never do (the learner edits them).
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
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
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// Not cond_wait_spy.hpp nor thread_starts.hpp: they define pthread functions of their own, which
// only the katas that include them may have. Nor support/thread_pool.hpp: kata 03a's own file
// has the same name.
#include "testkit/children.hpp"
#include "testkit/cores.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/exceptions.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/proc_stat.hpp"
#include "testkit/process.hpp"
#include "testkit/terminate_note.hpp"
#include "testkit/text.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/thread_probe.hpp"
#include "testkit/timed_barrier.hpp"
#include "testkit/under_test.hpp"
