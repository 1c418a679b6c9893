// Counts how many pieces of work are running at the same moment, and remembers the most.
//
// Why: "at most k workers" and "never more than one holder of the GIL" are claims about
// overlap. A probe turns them into exact numbers a test can compare: wrap the work in
// `auto in = probe.enter();` and read `max_in_flight()` afterwards.
#pragma once

#include <atomic>

namespace testkit {

class InflightProbe {
 public:
  // RAII guard: counts the work as running from construction to destruction.
  class Scope {
   public:
    explicit Scope(InflightProbe& probe) : probe_(&probe) { probe_->arrive(); }
    Scope(Scope&& other) noexcept : probe_(other.probe_) { other.probe_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope() {
      if (probe_ != nullptr) probe_->leave();
    }

   private:
    InflightProbe* probe_;
  };

  [[nodiscard]] Scope enter() { return Scope(*this); }

  int now() const { return now_.load(); }            // running right now
  int max_in_flight() const { return max_.load(); }  // most ever running together
  int entries() const { return entries_.load(); }    // how many times work started

 private:
  void arrive() {
    int current = now_.fetch_add(1) + 1;
    entries_.fetch_add(1);
    int seen = max_.load();
    while (current > seen && !max_.compare_exchange_weak(seen, current)) {
    }
  }
  void leave() { now_.fetch_sub(1); }

  std::atomic<int> now_{0};
  std::atomic<int> max_{0};
  std::atomic<int> entries_{0};
};

}  // namespace testkit
