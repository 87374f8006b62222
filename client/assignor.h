// Partition assignors run by the group leader (classic consumer group protocol).
//
// range: per topic, members subscribed to it sorted by member id; partition p goes to
//   member p / (n/m) with the first n%m members taking one extra (Kafka's RangeAssignor).
// cooperative-sticky (KIP-429): members keep the partitions they own as long as the
//   assignment stays balanced (counts differ by at most one); unowned partitions go to
//   the least loaded subscribed member. A partition that must move from its current
//   owner is withheld this generation: the owner revokes it and rejoins, and the next
//   rebalance hands it to its new owner, so no partition is ever owned twice.
// Pure functions: no I/O, deterministic for a given input.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "client/consumer_protocol.h"

namespace millrace::client {

using MemberSubscriptions = std::map<std::string, Subscription>;       // member id -> subscription
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>>;
using PartitionCounts = std::map<std::string, int32_t>;                 // topic -> partitions

GroupAssignment range_assign(const MemberSubscriptions& members, const PartitionCounts& partitions);
GroupAssignment cooperative_sticky_assign(const MemberSubscriptions& members, const PartitionCounts& partitions);

}  // namespace millrace::client
