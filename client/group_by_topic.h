// group_by_topic: the per-topic body of a request that names partitions (ListOffsets,
// OffsetCommit, AlterPartitionReassignments): one entry per topic, in topic order,
// each with its partitions in the order given. Header-only; no threading of its own.
// Used by list_offsets.cc, admin.cc and consumer_group.cc.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "client/producer_record.h"

namespace millrace::client {

namespace group_by_topic_detail {
inline const TopicPartition& partition_of(const TopicPartition& tp) { return tp; }
template <typename V>
const TopicPartition& partition_of(const std::pair<const TopicPartition, V>& kv) {
  return kv.first;
}
}  // namespace group_by_topic_detail

// Topic is a generated request's topic entry (fields `name` and `partitions`, whose
// entries have `partition_index`). Items are TopicPartitions or (TopicPartition, value)
// pairs; fill(partition_entry, item) sets what the request carries besides the index.
template <typename Topic, typename Items, typename Fill>
std::vector<Topic> group_by_topic(const Items& items, Fill fill) {
  std::map<std::string, Topic> per_topic;
  for (const auto& item : items) {
    const TopicPartition& tp = group_by_topic_detail::partition_of(item);
    Topic& t = per_topic[tp.topic];
    t.name = tp.topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = tp.partition;
    fill(p, item);
  }
  std::vector<Topic> out;
  out.reserve(per_topic.size());
  for (auto& [name, t] : per_topic) out.push_back(std::move(t));
  return out;
}

}  // namespace millrace::client
