// What an application hands to Producer::send() and gets back when it is delivered.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/result.h"

namespace millrace::client {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct TopicPartitionHash {
  size_t operator()(const TopicPartition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  }
};

struct Header {
  std::string key;
  std::optional<std::string> value;
};

struct ProducerRecord {
  std::string topic;
  std::optional<int32_t> partition;   // unset: the partitioner decides
  std::optional<std::string> key;     // unset: null key
  std::optional<std::string> value;   // unset: null value (a tombstone)
  std::vector<Header> headers;
  int64_t timestamp_ms = -1;          // -1: the producer stamps the send time
};

struct RecordMetadata {
  TopicPartition tp;
  int64_t offset = -1;                // -1 when acks=0 (the broker said nothing)
  int64_t timestamp_ms = -1;
};

// Called once per record, on the producer's io thread: keep it short.
using DeliveryCallback = std::function<void(const RecordMetadata&, const Error&)>;

}  // namespace millrace::client
