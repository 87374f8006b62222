// Record layouts of __consumer_offsets, following Kafka's own schemas so the
// topic reads the same way (all big-endian, strings int16-length-prefixed):
//
//   offset commit key   (version 1): int16 1 | group | topic | int32 partition
//   offset commit value (version 3): int16 3 | int64 offset | int32 leader_epoch
//                                    | metadata | int64 commit_timestamp
//   group key           (version 2): int16 2 | group
//   group value         (version 3): int16 3 | protocol_type | int32 generation
//                                    | protocol (nullable, -1) | leader (nullable)
//                                    | int64 state_timestamp | int32 member count (0)
//
// A null value (tombstone) deletes the key's previous value (offset delete,
// group deletion). Members are not persisted: after a restart a group comes
// back Empty with its generation, and members rejoin (offsets are what must
// survive, and they do).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "coordination/group_types.h"

namespace millrace::coordination {

inline constexpr int16_t kOffsetKeyVersion = 1;
inline constexpr int16_t kGroupKeyVersion = 2;
inline constexpr int16_t kOffsetValueVersion = 3;
inline constexpr int16_t kGroupValueVersion = 3;

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
};
struct GroupKey {
  std::string group;
};
struct GroupValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t state_timestamp_ms = 0;
};

std::vector<uint8_t> encode_offset_key(const OffsetKey& k);
std::vector<uint8_t> encode_offset_value(const CommittedOffset& v);
std::vector<uint8_t> encode_group_key(const GroupKey& k);
std::vector<uint8_t> encode_group_value(const GroupValue& v);

// nullopt / monostate when the bytes are not a known layout.
std::variant<std::monostate, OffsetKey, GroupKey> decode_key(std::span<const uint8_t> bytes);
std::optional<CommittedOffset> decode_offset_value(std::span<const uint8_t> bytes);
std::optional<GroupValue> decode_group_value(std::span<const uint8_t> bytes);

}  // namespace millrace::coordination
