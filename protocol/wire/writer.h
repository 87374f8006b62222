// Writer of Kafka's primitive encodings into a growable byte buffer.
// The encodings are the ones drawn at the top of reader.h.
//
// Splices: a proto::Records that points at a file region is not copied into
// the buffer. The writer records {at_offset, region} instead: the full wire
// image is buffer[0, at_offset) + region bytes + the rest of the buffer (with
// further splices in order). splices() lists them in increasing at_offset, so
// a server sends buffer pieces interleaved with sendfile() of each region.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/wire/byteswap.h"
#include "protocol/wire/records.h"

namespace millrace::wire {

struct Splice {
  size_t at_offset;            // position in buffer() where the region's bytes belong
  proto::FileRegion region;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::vector<uint8_t>& out) : ext_(&out) {}

  std::vector<uint8_t>& buffer() { return ext_ ? *ext_ : own_; }
  const std::vector<uint8_t>& buffer() const { return ext_ ? *ext_ : own_; }
  size_t size() const { return buffer().size(); }

  void int8(int8_t v) { fixed(static_cast<uint8_t>(v)); }
  void uint8(uint8_t v) { fixed(v); }
  void int16(int16_t v) { fixed(static_cast<uint16_t>(v)); }
  void uint16(uint16_t v) { fixed(v); }
  void int32(int32_t v) { fixed(static_cast<uint32_t>(v)); }
  void uint32(uint32_t v) { fixed(v); }
  void int64(int64_t v) { fixed(static_cast<uint64_t>(v)); }
  void float64(double v) { fixed(std::bit_cast<uint64_t>(v)); }
  void boolean(bool v) { fixed(static_cast<uint8_t>(v ? 1 : 0)); }

  void uvarint(uint32_t v) { uvarlong(v); }
  void uvarlong(uint64_t v) {
    auto& b = buffer();
    while (v >= 0x80) { b.push_back(static_cast<uint8_t>(v | 0x80)); v >>= 7; }
    b.push_back(static_cast<uint8_t>(v));
  }
  void varint(int32_t v) { uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }
  void varlong(int64_t v) { uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }

  // resize+memcpy rather than insert: g++ 12 -O3 reports a false
  // -Wstringop-overflow for insert of a fixed-size span into an empty vector.
  void bytes(std::span<const uint8_t> s) {
    if (s.empty()) return;
    auto& b = buffer();
    size_t at = b.size();
    b.resize(at + s.size());
    std::memcpy(b.data() + at, s.data(), s.size());
  }
  void string(std::string_view s) {
    bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

  // Reserve 4 bytes now, fill them later (sizes and CRCs written after the body).
  size_t reserve_int32() { size_t at = size(); int32(0); return at; }
  void patch_int32(size_t at, int32_t v) { patch_fixed(at, static_cast<uint32_t>(v)); }
  void patch_uint32(size_t at, uint32_t v) { patch_fixed(at, v); }

  // Marks that `region` goes here (its bytes are not in the buffer).
  void splice(const proto::FileRegion& region) { splices_.push_back({size(), region}); }
  const std::vector<Splice>& splices() const { return splices_; }
  // Size of the full wire image: buffer plus every spliced region.
  size_t total_size() const {
    size_t n = size();
    for (const auto& s : splices_) n += static_cast<size_t>(s.region.length);
    return n;
  }

  static size_t uvarint_size(uint64_t v) { size_t n = 1; while (v >= 0x80) { v >>= 7; ++n; } return n; }
  static size_t varint_size(int64_t v) {
    return uvarint_size((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }

 private:
  template <typename U>
  void fixed(U v) {
    if constexpr (sizeof(U) > 1) v = wire::byteswap(v);
    auto& b = buffer();
    size_t at = b.size();
    b.resize(at + sizeof(U));
    std::memcpy(b.data() + at, &v, sizeof(U));
  }
  template <typename U>
  void patch_fixed(size_t at, U v) {
    v = wire::byteswap(v);
    std::memcpy(buffer().data() + at, &v, sizeof(U));
  }

  std::vector<uint8_t> own_;
  std::vector<uint8_t>* ext_ = nullptr;
  std::vector<Splice> splices_;
};

}  // namespace millrace::wire
