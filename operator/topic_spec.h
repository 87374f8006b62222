// What a Topic resource's spec says, read without I/O: the Kafka topic it
// names and its leader placement (spec.leaders.preferredRacks: racks its
// partitions' leaders should be in, in order of preference). Shared by the
// Topic reconciler, which reports a bad value in the Topic's status, and the
// Rebalance reconciler, which hands the preferences to the planner.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/conditions.h"

namespace millrace::op {

// spec.topicName, or metadata.name when it is not set.
std::string kafka_topic_name(const json& topic);

struct PreferredRacks {
  std::vector<std::string> racks;  // empty: no preference
  std::string error;               // naming the field, e.g. "spec.leaders.preferredRacks[2]: \"a\" twice"
};

// spec.leaders.preferredRacks: strings, none empty, none twice.
PreferredRacks parse_preferred_racks(const json& topic);

// Kafka topic -> preferred racks, for the Topics (of any namespace's list) in
// namespace `ns` whose clusterRef names `cluster` and that set a valid
// preference. Two Topics naming one Kafka topic: the older owns it (by
// creationTimestamp, then name), as the Topic reconciler decides.
std::map<std::string, std::vector<std::string>> preferred_leader_racks(const std::vector<json>& topics,
                                                                       const std::string& ns,
                                                                       const std::string& cluster);

}  // namespace millrace::op
