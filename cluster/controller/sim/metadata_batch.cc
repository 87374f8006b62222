#include "cluster/controller/sim/metadata_batch.h"

#include <type_traits>

namespace millrace::cluster::sim {
namespace {

std::string ints(const std::vector<int32_t>& v) {
  std::string out = "[";
  for (size_t k = 0; k < v.size(); ++k) {
    if (k > 0) out.push_back(',');
    out.append(std::to_string(v[k]));
  }
  out.push_back(']');
  return out;
}

std::string id_prefix(const std::array<uint8_t, 16>& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int k = 0; k < 4; ++k) {
    out += kHex[id[static_cast<size_t>(k)] >> 4];
    out += kHex[id[static_cast<size_t>(k)] & 15];
  }
  return out;
}

}  // namespace

std::vector<uint8_t> encode_batch(const std::vector<records::AnyRecord>& records) {
  std::vector<uint8_t> out;
  for (const auto& r : records) {
    std::vector<uint8_t> framed = records::encode_record(r);
    auto n = static_cast<uint32_t>(framed.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(n >> shift));
    out.insert(out.end(), framed.begin(), framed.end());
  }
  return out;
}

DecodedBatch decode_batch(std::span<const uint8_t> bytes) {
  DecodedBatch out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) {
      out.error = "record " + std::to_string(out.records.size()) + ": truncated length";
      return out;
    }
    uint32_t n = 0;
    for (int k = 0; k < 4; ++k) n = (n << 8) | bytes[pos + static_cast<size_t>(k)];
    pos += 4;
    if (bytes.size() - pos < n) {
      out.error = "record " + std::to_string(out.records.size()) + ": length " + std::to_string(n) + " past the end";
      return out;
    }
    records::DecodedRecord d = records::decode_record(bytes.subspan(pos, n));
    if (!d.ok()) {
      out.error = "record " + std::to_string(out.records.size()) + ": " + d.error;
      return out;
    }
    out.records.push_back(std::move(d.value.record));
    pos += n;
  }
  return out;
}

std::string describe(const records::AnyRecord& record) {
  using namespace records;
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RegisterBrokerRecord>) {
          return "RegisterBrokerRecord{broker " + std::to_string(r.broker_id) + " epoch " +
                 std::to_string(r.broker_epoch) + " fenced " + std::to_string(r.fenced) + "}";
        } else if constexpr (std::is_same_v<T, FenceBrokerRecord> || std::is_same_v<T, UnfenceBrokerRecord>) {
          return std::string(std::is_same_v<T, FenceBrokerRecord> ? "Fence" : "Unfence") + "BrokerRecord{broker " +
                 std::to_string(r.id) + " epoch " + std::to_string(r.epoch) + "}";
        } else if constexpr (std::is_same_v<T, BrokerRegistrationChangeRecord>) {
          return "BrokerRegistrationChangeRecord{broker " + std::to_string(r.broker_id) + " fenced " +
                 std::to_string(r.fenced) + " shutdown " + std::to_string(r.in_controlled_shutdown) + "}";
        } else if constexpr (std::is_same_v<T, TopicRecord>) {
          return "TopicRecord{" + r.name + " id " + id_prefix(r.topic_id.bytes) + "..}";
        } else if constexpr (std::is_same_v<T, RemoveTopicRecord>) {
          return "RemoveTopicRecord{id " + id_prefix(r.topic_id.bytes) + "..}";
        } else if constexpr (std::is_same_v<T, PartitionRecord>) {
          return "PartitionRecord{topic " + id_prefix(r.topic_id.bytes) + ".. partition " +
                 std::to_string(r.partition_id) + " replicas " + ints(r.replicas) + " isr " + ints(r.isr) +
                 " leader " + std::to_string(r.leader) + " epochs " + std::to_string(r.leader_epoch) + "/" +
                 std::to_string(r.partition_epoch) + "}";
        } else if constexpr (std::is_same_v<T, PartitionChangeRecord>) {
          return "PartitionChangeRecord{topic " + id_prefix(r.topic_id.bytes) + ".. partition " +
                 std::to_string(r.partition_id) + " leader " + std::to_string(r.leader) + "}";
        } else if constexpr (std::is_same_v<T, PartitionLeaderRecord>) {
          return "PartitionLeaderRecord{topic " + id_prefix(r.topic_id.bytes) + ".. partition " +
                 std::to_string(r.partition_id) + " leader " + std::to_string(r.leader) + " epoch " +
                 std::to_string(r.leader_epoch) + " isr " + ints(r.isr) + "}";
        } else if constexpr (std::is_same_v<T, ConfigRecord>) {
          return "ConfigRecord{" + std::to_string(r.resource_type) + ":" + r.resource_name + " " + r.name + "=" +
                 (r.value ? *r.value : std::string("(deleted)")) + "}";
        } else if constexpr (std::is_same_v<T, ProducerIdsRecord>) {
          return "ProducerIdsRecord{broker " + std::to_string(r.broker_id) + " next " +
                 std::to_string(r.next_producer_id) + "}";
        } else if constexpr (std::is_same_v<T, FeatureLevelRecord>) {
          return "FeatureLevelRecord{" + r.name + "=" + std::to_string(r.feature_level) + "}";
        } else {
          return "record type " + std::to_string(T::kApiKey);
        }
      },
      record);
}

}  // namespace millrace::cluster::sim
