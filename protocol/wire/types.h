// Value types shared by every generated message.
//
//   Uuid         16 raw bytes on the wire (Kafka's uuid: two big-endian int64s)
//   UnknownTags  tagged fields of flexible versions that this code does not
//                know (newer tag, or a tag of another version): kept as
//                (tag, raw value bytes) and written back in tag order on encode
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "protocol/wire/records.h"

namespace millrace::proto {

struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const {
    for (uint8_t b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }
  bool operator==(const Uuid&) const = default;
};

using UnknownTags = std::vector<std::pair<uint32_t, std::vector<uint8_t>>>;

}  // namespace millrace::proto
