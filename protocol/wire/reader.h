// Reader over untrusted bytes in Kafka's primitive encodings.
//
//   int8/16/32/64      big-endian, fixed width
//   uvarint            unsigned LEB128 (protocol compact lengths, tag ids/sizes)
//   varint / varlong   zigzag then LEB128 (record fields)
//   float64            IEEE-754 big-endian
//
// Errors are values: a read past the end, or a malformed varint, sets the
// reader's failed state and returns 0/empty. Callers check ok() once at a
// boundary (end of a message) instead of after every field. A Reader never
// throws and never reads outside the span it was given.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "protocol/wire/byteswap.h"

namespace millrace::wire {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  bool ok() const { return ok_; }
  void fail() { ok_ = false; pos_ = data_.size(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

  int8_t int8() { return static_cast<int8_t>(fixed<uint8_t>()); }
  uint8_t uint8() { return fixed<uint8_t>(); }
  int16_t int16() { return static_cast<int16_t>(fixed<uint16_t>()); }
  uint16_t uint16() { return fixed<uint16_t>(); }
  int32_t int32() { return static_cast<int32_t>(fixed<uint32_t>()); }
  uint32_t uint32() { return fixed<uint32_t>(); }
  int64_t int64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  double float64() { return std::bit_cast<double>(fixed<uint64_t>()); }
  bool boolean() { return fixed<uint8_t>() != 0; }

  // Unsigned LEB128, at most 5 bytes for 32 bits.
  uint32_t uvarint() { return static_cast<uint32_t>(leb128(5)); }
  uint64_t uvarlong() { return leb128(10); }
  int32_t varint() {
    uint32_t u = uvarint();
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  int64_t varlong() {
    uint64_t u = uvarlong();
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }

  // Returns a view of the next n bytes, or an empty span and fails.
  std::span<const uint8_t> bytes(size_t n) {
    if (!ok_ || n > remaining()) { fail(); return {}; }
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view string(size_t n) {
    auto s = bytes(n);
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  void skip(size_t n) { (void)bytes(n); }

 private:
  template <typename U>
  U fixed() {
    if (!ok_ || remaining() < sizeof(U)) { fail(); return 0; }
    U v;
    std::memcpy(&v, data_.data() + pos_, sizeof(U));
    pos_ += sizeof(U);
    if constexpr (sizeof(U) > 1) v = wire::byteswap(v);
    return v;
  }
  uint64_t leb128(int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (!ok_ || pos_ >= data_.size()) { fail(); return 0; }
      uint8_t b = data_[pos_++];
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    fail();  // too many continuation bytes
    return 0;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace millrace::wire
