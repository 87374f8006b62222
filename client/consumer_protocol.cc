#include "client/consumer_protocol.h"

#include <algorithm>
#include <map>

#include "protocol/generated/consumer_protocol_assignment.h"
#include "protocol/generated/consumer_protocol_subscription.h"

namespace millrace::client {

std::vector<uint8_t> encode_subscription(const Subscription& s, int16_t version) {
  proto::ConsumerProtocolSubscription sub;
  sub.topics = s.topics;
  std::map<std::string, std::vector<int32_t>> owned;
  for (auto& tp : s.owned) owned[tp.topic].push_back(tp.partition);
  for (auto& [t, ps] : owned) sub.owned_partitions.push_back({t, ps, {}});
  sub.generation_id = s.generation;
  wire::Writer w;
  w.int16(version);
  sub.encode(w, version);
  return std::move(w.buffer());
}

std::optional<Subscription> decode_subscription(std::span<const uint8_t> bytes) {
  wire::Reader r(bytes);
  int16_t v = r.int16();
  if (!r.ok() || v < 0) return std::nullopt;
  proto::ConsumerProtocolSubscription sub;
  if (!sub.decode(r, std::min<int16_t>(v, proto::ConsumerProtocolSubscription::kHighestVersion))) return std::nullopt;
  Subscription s;
  s.topics = sub.topics;
  for (auto& o : sub.owned_partitions)
    for (auto p : o.partitions) s.owned.push_back({o.topic, p});
  s.generation = sub.generation_id;
  return s;
}

std::vector<uint8_t> encode_assignment(const std::vector<TopicPartition>& tps) {
  proto::ConsumerProtocolAssignment a;
  std::map<std::string, std::vector<int32_t>> per;
  for (auto& tp : tps) per[tp.topic].push_back(tp.partition);
  for (auto& [t, ps] : per) a.assigned_partitions.push_back({t, ps, {}});
  a.user_data.reset();
  wire::Writer w;
  w.int16(1);
  a.encode(w, 1);
  return std::move(w.buffer());
}

std::optional<std::vector<TopicPartition>> decode_assignment(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return std::vector<TopicPartition>{};
  wire::Reader r(bytes);
  int16_t v = r.int16();
  if (!r.ok() || v < 0) return std::nullopt;
  proto::ConsumerProtocolAssignment a;
  if (!a.decode(r, std::min<int16_t>(v, proto::ConsumerProtocolAssignment::kHighestVersion))) return std::nullopt;
  std::vector<TopicPartition> out;
  for (auto& t : a.assigned_partitions)
    for (auto p : t.partitions) out.push_back({t.topic, p});
  return out;
}

}  // namespace millrace::client
