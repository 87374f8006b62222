// A readable trace of a simulated run (raft/sim): the last `capacity` events
// (messages delivered, crashes, partitions, proposals, commits, role changes),
// each stamped with the step and tick it happened at. With `live` set every
// event is also printed as it happens (a replay with MILLRACE_SEED).
//
// Threading: none; owned by one run.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>
#include <string>

namespace millrace::raft::sim {

class Trace {
 public:
  explicit Trace(size_t capacity, std::ostream* live = nullptr) : capacity_(capacity), live_(live) {}

  void add(int64_t step, std::string what) {
    std::string line = "[tick " + std::to_string(step / 10) + "." + std::to_string(step % 10) + "] ";
    line.append(what);
    if (live_ != nullptr) *live_ << line << '\n';
    if (capacity_ == 0) return;
    if (events_.size() == capacity_) events_.pop_front();
    events_.push_back(std::move(line));
  }
  bool live() const { return live_ != nullptr; }
  const std::deque<std::string>& events() const { return events_; }

 private:
  size_t capacity_;
  std::ostream* live_;
  std::deque<std::string> events_;
};

}  // namespace millrace::raft::sim
