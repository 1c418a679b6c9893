// Headers precompiled once and reused by every kata test (see cmake/Kata.cmake).
// Only stable, heavy headers belong here: GoogleTest, the standard headers the katas use, and
// the test helpers. A kata's own headers never do (the learner edits them).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "testkit/children.hpp"
#include "testkit/deadline.hpp"
#include "testkit/descriptors.hpp"
#include "testkit/eventually.hpp"
#include "testkit/inflight_probe.hpp"
#include "testkit/interposed.hpp"
#include "testkit/leak_checked_test.hpp"
#include "testkit/process.hpp"
#include "testkit/thread_count.hpp"
#include "testkit/timed_barrier.hpp"
