// Internal to the codecs: the growable, bounded output buffer every decoder uses.
// The buffer may grow to max_output + 1 bytes, so that "one byte too many" is
// seen and refused without ever holding more than the limit plus one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace millrace::record::detail {

class BoundedOutput {
 public:
  BoundedOutput(std::vector<uint8_t>& out, size_t max_output, size_t first_guess)
      : out_(out), cap_(max_output == SIZE_MAX ? SIZE_MAX : max_output + 1) {
    out_.resize(std::min(cap_, std::max<size_t>(first_guess, 4096)));
  }
  ~BoundedOutput() { out_.resize(produced_); }
  BoundedOutput(const BoundedOutput&) = delete;
  BoundedOutput& operator=(const BoundedOutput&) = delete;

  uint8_t* next() { return out_.data() + produced_; }
  size_t available() const { return out_.size() - produced_; }
  void commit(size_t n) { produced_ += n; }
  size_t produced() const { return produced_; }
  bool over_limit() const { return produced_ >= cap_ && cap_ != SIZE_MAX; }

  // Makes room for more output; false when the limit is reached (refuse the input).
  bool grow() {
    if (available() > 0) return true;
    if (out_.size() >= cap_) return false;
    size_t want = out_.size() < cap_ / 2 ? out_.size() * 2 : cap_;
    out_.resize(std::max(want, out_.size() + 1));
    return true;
  }

 private:
  std::vector<uint8_t>& out_;
  size_t cap_;
  size_t produced_ = 0;
};

inline constexpr const char* kTooLarge = "decompressed records exceed the size limit";

}  // namespace millrace::record::detail
