// Record layouts of __consumer_offsets, following Kafka's own schemas so the
// topic reads the same way (all big-endian, strings int16-length-prefixed):
//
//   offset commit key   (version 1): int16 1 | group | topic | int32 partition
//   offset commit value (version 3): int16 3 | int64 offset | int32 leader_epoch
//                                    | metadata | int64 commit_timestamp
//   group key           (version 2): int16 2 | group
//   group value (Kafka's GroupMetadataValue; written at version 3, read 0-3):
//     int16 version | protocol_type | int32 generation | protocol (nullable, -1)
//     | leader (nullable) | [v2+] int64 current_state_timestamp
//     | int32 member count, then per member:
//         member_id | [v3+] group_instance_id (nullable) | client_id
//         | client_host | [v1+] int32 rebalance_timeout | int32 session_timeout
//         | bytes subscription | bytes assignment      (bytes: int32 length + data)
//   Version 4 (flexible, compact encodings) is not read: such a record is
//   skipped like any unknown layout.
//
// A null value (tombstone) deletes the key's previous value (offset delete,
// group deletion). A group value is written when a generation completes
// (leader's SyncGroup: Stable, with every member's subscription and
// assignment) and when a group becomes Empty; replaying the latest one brings
// the group back Stable (members) or Empty (none) with the same generation.
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
struct GroupMemberValue {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;  // v0 records: the session timeout, as Kafka reads them
  int32_t session_timeout_ms = 0;
  std::vector<uint8_t> subscription;  // metadata of the group's chosen protocol
  std::vector<uint8_t> assignment;

  bool operator==(const GroupMemberValue&) const = default;
};
struct GroupValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t state_timestamp_ms = -1;  // v0-1 records: -1 (Kafka's default)
  std::vector<GroupMemberValue> members;
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
