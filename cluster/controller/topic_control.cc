#include "cluster/controller/topic_control.h"

#include <algorithm>

#include "cluster/placement/placement.h"
#include "cluster/topics/topic_table.h"

namespace millrace::cluster {
namespace {

namespace err {
constexpr int16_t kUnknownTopicOrPartition = 3;
constexpr int16_t kInvalidTopic = 17;
constexpr int16_t kTopicAuthorizationFailed = 29;
constexpr int16_t kTopicAlreadyExists = 36;
constexpr int16_t kInvalidPartitions = 37;
constexpr int16_t kInvalidReplicationFactor = 38;
}  // namespace err

ControlResult fail(int16_t code, std::string message) { return {code, std::move(message), {}}; }

std::vector<PlacementBroker> placement_brokers(const MetadataState& state) {
  std::map<int32_t, int32_t> load;
  for (const auto& [_, t] : state.topics())
    for (const auto& [__, p] : t.partitions)
      for (int32_t r : p.replicas) ++load[r];
  std::vector<PlacementBroker> out;
  for (const auto& [id, b] : state.brokers())
    out.push_back({id, b.rack, b.fenced || b.in_controlled_shutdown, load[id]});
  return out;
}

void add_partitions(std::vector<records::AnyRecord>& out, const TopicId& id,
                    const std::vector<std::vector<int32_t>>& placed, int32_t first) {
  for (size_t i = 0; i < placed.size(); ++i) {
    records::PartitionRecord p;
    p.partition_id = first + static_cast<int32_t>(i);
    p.topic_id.bytes = id;
    p.replicas = placed[i];
    p.isr = placed[i];
    p.leader = placed[i].front();
    p.leader_epoch = 0;
    p.partition_epoch = 0;
    out.emplace_back(std::move(p));
  }
}

}  // namespace

ControlResult create_topic(const MetadataState& state, const NewTopic& topic, const TopicId& id) {
  std::string why;
  if (!valid_topic_name(topic.name, why)) return fail(err::kInvalidTopic, why);
  if (state.topic(topic.name)) return fail(err::kTopicAlreadyExists, "Topic '" + topic.name + "' already exists.");
  if (state.topics().count(id)) return fail(err::kTopicAlreadyExists, "topic id " + topic_id_hex(id) + " is taken");
  if (topic.partitions < 1) return fail(err::kInvalidPartitions, "Number of partitions must be larger than 0.");
  const auto brokers = placement_brokers(state);
  int16_t rf = topic.replication_factor;
  if (topic.cap_to_live) {
    const auto live = std::count_if(brokers.begin(), brokers.end(), [](const PlacementBroker& b) { return !b.fenced; });
    rf = static_cast<int16_t>(std::clamp<int64_t>(live, 1, std::max<int64_t>(1, rf)));
  }
  auto placed = place_replicas(brokers, 0, topic.partitions, rf);
  if (!placed.ok()) return fail(err::kInvalidReplicationFactor, placed.error);
  ControlResult out;
  records::TopicRecord t;
  t.name = topic.name;
  t.topic_id.bytes = id;
  out.records.emplace_back(std::move(t));
  add_partitions(out.records, id, placed.replicas, 0);
  for (const auto& [key, value] : topic.configs) {
    records::ConfigRecord c;
    c.resource_type = kTopicResource;
    c.resource_name = topic.name;
    c.name = key;
    c.value = value;
    out.records.emplace_back(std::move(c));
  }
  return out;
}

ControlResult delete_topic(const MetadataState& state, std::string_view name) {
  const TopicState* t = state.topic(name);
  if (!t) return fail(err::kUnknownTopicOrPartition, "This server does not host this topic-partition.");
  if (t->name == "__consumer_offsets")
    return fail(err::kTopicAuthorizationFailed, "internal topics cannot be deleted");
  records::RemoveTopicRecord r;
  r.topic_id.bytes = t->id;
  return {0, "", {r}};
}

ControlResult create_partitions(const MetadataState& state, std::string_view name, int32_t total) {
  const TopicState* t = state.topic(name);
  if (!t) return fail(err::kUnknownTopicOrPartition, "This server does not host this topic-partition.");
  auto current = static_cast<int32_t>(t->partitions.size());
  if (total <= current)
    return fail(err::kInvalidPartitions, "Topic currently has " + std::to_string(current) +
                                             " partitions, which is higher than the requested " +
                                             std::to_string(total) + ".");
  auto rf = t->partitions.empty() ? 1 : static_cast<int16_t>(t->partitions.begin()->second.replicas.size());
  auto placed = place_replicas(placement_brokers(state), current, total - current, rf);
  if (!placed.ok()) return fail(err::kInvalidReplicationFactor, placed.error);
  ControlResult out;
  add_partitions(out.records, t->id, placed.replicas, current);
  return out;
}

}  // namespace millrace::cluster

namespace millrace::cluster {

ControlResult alter_topic_configs(const MetadataState& state, std::string_view name,
                                  const std::map<std::string, std::optional<std::string>>& changes, bool replace) {
  if (!state.topic(name))
    return {3, "This server does not host this topic-partition.", {}};  // UNKNOWN_TOPIC_OR_PARTITION
  const std::string topic(name);
  std::map<std::string, std::string> current;
  if (auto it = state.configs().find({kTopicResource, topic}); it != state.configs().end()) current = it->second;
  std::map<std::string, std::optional<std::string>> target;
  if (replace)
    for (const auto& [k, v] : current) target[k] = std::nullopt;  // keys not in the new set go
  for (const auto& [k, v] : changes) target[k] = v;
  ControlResult out;
  for (const auto& [k, v] : target) {
    auto have = current.find(k);
    if (!v && have == current.end()) continue;
    if (v && have != current.end() && have->second == *v) continue;
    records::ConfigRecord c;
    c.resource_type = kTopicResource;
    c.resource_name = topic;
    c.name = k;
    c.value = v;
    out.records.emplace_back(std::move(c));
  }
  return out;
}

}  // namespace millrace::cluster

namespace millrace::cluster {

std::vector<records::AnyRecord> adopt_topic(const std::string& name, const TopicId& id, int32_t partitions,
                                            int32_t node, const std::map<std::string, std::string>& configs) {
  std::vector<records::AnyRecord> out;
  records::TopicRecord t;
  t.name = name;
  t.topic_id.bytes = id;
  out.emplace_back(std::move(t));
  for (int32_t i = 0; i < partitions; ++i) {
    records::PartitionRecord p;
    p.partition_id = i;
    p.topic_id.bytes = id;
    p.replicas = {node};
    p.isr = {node};
    p.leader = node;
    out.emplace_back(std::move(p));
  }
  for (const auto& [k, v] : configs) {
    records::ConfigRecord c;
    c.resource_type = kTopicResource;
    c.resource_name = name;
    c.name = k;
    c.value = v;
    out.emplace_back(std::move(c));
  }
  return out;
}

}  // namespace millrace::cluster
