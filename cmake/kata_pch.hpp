// Headers precompiled once and reused by every kata test (see cmake/Kata.cmake).
// Only stable, heavy headers belong here; a kata's own headers never do.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>
