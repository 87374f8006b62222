// The "consumer" embedded protocol carried opaquely by JoinGroup/SyncGroup:
//
//   metadata   = int16 version, ConsumerProtocolSubscription (topics, user_data,
//                owned_partitions v1+, generation_id v2+, rack_id v3+)
//   assignment = int16 version, ConsumerProtocolAssignment (assigned_partitions,
//                user_data)
//
// Encoded/decoded with the generated structs; a newer version than we know is read
// as our highest (Kafka's rule: fields are only ever appended).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "client/producer_record.h"

namespace millrace::client {

struct Subscription {
  std::vector<std::string> topics;
  std::vector<TopicPartition> owned;
  int32_t generation = -1;
};

std::vector<uint8_t> encode_subscription(const Subscription& s, int16_t version = 1);
std::optional<Subscription> decode_subscription(std::span<const uint8_t> bytes);
std::vector<uint8_t> encode_assignment(const std::vector<TopicPartition>& tps);
std::optional<std::vector<TopicPartition>> decode_assignment(std::span<const uint8_t> bytes);

}  // namespace millrace::client
